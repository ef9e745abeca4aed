//go:build integration

package integration

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// startNginx runs nginx with the given server blocks inside an http {}
// whose access log goes to DIR/access.log as "PORT METHOD URI STATUS
// auth=[AUTHORIZATION] cookie=[COOKIE]", waits for port and returns DIR.
func startNginx(t *testing.T, port int, servers string) string {
	t.Helper()
	nginx := testutil.NeedBinary(t, "nginx", "apt-get install nginx-light")
	dir := t.TempDir()
	for _, d := range []string{"logs", "tmp"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	conf := filepath.Join(dir, "nginx.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`
user root;
worker_processes 1;
error_log %[1]s/logs/error.log;
pid %[1]s/nginx.pid;
events { worker_connections 64; }
http {
  log_format hoist '$server_port $request_method $uri $status auth=[$http_authorization] cookie=[$http_cookie]';
  access_log %[1]s/access.log hoist;
  client_body_temp_path %[1]s/tmp/body;
  proxy_temp_path %[1]s/tmp/proxy;
  fastcgi_temp_path %[1]s/tmp/fastcgi;
  uwsgi_temp_path %[1]s/tmp/uwsgi;
  scgi_temp_path %[1]s/tmp/scgi;
%[2]s
}
`, dir, servers)), 0o600)
	testutil.StartProcess(t, port, nginx, "-c", conf, "-p", dir, "-g", "daemon off;")
	return dir
}

// accessLog returns the lines nginx logged so far.
func accessLog(t *testing.T, dir string) []string {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(dir, "access.log"))
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// blobGetsAt counts the blob GETs nginx answered on port.
func blobGetsAt(t *testing.T, dir string, port int) int {
	n := 0
	for _, l := range accessLog(t, dir) {
		if f := strings.Fields(l); len(f) >= 4 && f[0] == strconv.Itoa(port) && f[1] == "GET" && strings.Contains(f[2], "/blobs/sha256:") {
			n++
		}
	}
	return n
}

// proxyTo is the location body that passes everything to a registry.
func proxyTo(upstream string) string {
	return fmt.Sprintf(`proxy_pass http://%s;
      proxy_set_header Host $http_host;
      proxy_request_buffering off;
      proxy_buffering off;`, upstream)
}

// login logs in to host as user with password under config dir cfg.
func login(t *testing.T, cfg []string, host, user, password string, extra ...string) {
	t.Helper()
	args := append([]string{"login", host, "-u", user, "--password-stdin"}, extra...)
	if out, stderr, code := runHoistIn(t, password+"\n", cfg, args...); code != 0 {
		t.Fatalf("login to %s: exit %d: %s%s", host, code, out, stderr)
	}
}

// TestNginxBlobRedirects pulls through nginx fronts that answer blob GETs
// with 307 to another loopback port, as S3- or CDN-backed registries do.
// Over plain http the redirect is followed, and the storage port never
// sees the registry credentials; over https, a redirect to https is
// followed and one to plain http refused.
func TestNginxBlobRedirects(t *testing.T) {
	dir := t.TempDir()
	passwd := filepath.Join(dir, "htpasswd")
	writeHtpasswd(t, passwd, map[string]string{"bob": "builder"})
	upstream := testutil.DockerRegistryWith(t, fmt.Sprintf("auth:\n  htpasswd:\n    realm: hoist-it\n    path: %s\n", passwd))
	storageAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte("bob:builder"))

	ca := testutil.NewCA(t, "hoist redirect CA")
	srv := ca.Server(t)
	crt, key := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	os.WriteFile(crt, srv.CertPEM, 0o600)
	os.WriteFile(key, srv.KeyPEM, 0o600)

	front, storage := testutil.FreePort(t), testutil.FreePort(t)
	tlsFront, tlsStorage, tlsToPlain := testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t)
	redirecting := func(port int, tls, target string) string {
		listen := fmt.Sprintf("listen 127.0.0.1:%d;", port)
		if tls != "" {
			listen = fmt.Sprintf("listen 127.0.0.1:%d ssl;\n    ssl_certificate %s;\n    ssl_certificate_key %s;", port, crt, key)
		}
		return fmt.Sprintf(`
  server {
    %s
    client_max_body_size 0;
    location ~ ^/v2/.+/blobs/sha256:[0-9a-f]+$ {
      if ($request_method = GET) { return 307 %s$request_uri; }
      %s
    }
    location / {
      %s
    }
  }`, listen, target, proxyTo(upstream), proxyTo(upstream))
	}
	// The storage ports serve blobs with credentials of their own, as a
	// signed URL would; what the client sends them is logged.
	storageServer := func(port int, tls bool) string {
		listen := fmt.Sprintf("listen 127.0.0.1:%d;", port)
		if tls {
			listen = fmt.Sprintf("listen 127.0.0.1:%d ssl;\n    ssl_certificate %s;\n    ssl_certificate_key %s;", port, crt, key)
		}
		return fmt.Sprintf(`
  server {
    %s
    location / {
      proxy_pass http://%s;
      proxy_set_header Authorization %q;
      proxy_set_header Cookie "";
      proxy_buffering off;
    }
  }`, listen, upstream, storageAuth)
	}
	logs := startNginx(t, front, redirecting(front, "", fmt.Sprintf("http://127.0.0.1:%d", storage))+
		storageServer(storage, false)+
		redirecting(tlsFront, "tls", fmt.Sprintf("https://localhost:%d", tlsStorage))+
		storageServer(tlsStorage, true)+
		redirecting(tlsToPlain, "tls", fmt.Sprintf("http://127.0.0.1:%d", storage)))

	cfg := []string{"DOCKER_CONFIG=" + filepath.Join(dir, "config")}
	certs := filepath.Join(dir, "certs.d")
	for _, p := range []int{tlsFront, tlsStorage, tlsToPlain} {
		ca.WriteCA(t, filepath.Join(certs, "localhost:"+strconv.Itoa(p)), "ca.crt")
	}
	plainHost := "127.0.0.1:" + strconv.Itoa(front)
	login(t, cfg, plainHost, "bob", "builder")
	want := testLayout(t, filepath.Join(dir, "src"), "redirect", 300_000)
	if _, stderr, code := runHoist(t, cfg, "push", "oci:"+filepath.Join(dir, "src")+":v1", plainHost+"/team/app:v1"); code != 0 {
		t.Fatalf("push through the http front: exit %d: %s", code, stderr)
	}

	t.Run("http front, 307 to another http port", func(t *testing.T) {
		out, stderr, code := runHoist(t, cfg, "pull", plainHost+"/team/app:v1", "oci:"+filepath.Join(dir, "plain")+":v1")
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("pull through 307s over plain http: exit %d: %s%s", code, out, stderr)
		}
		redirected, atStorage := 0, 0
		for _, l := range accessLog(t, logs) {
			f := strings.Fields(l)
			switch {
			case len(f) < 4 || f[1] != "GET" || !strings.Contains(f[2], "/blobs/sha256:"):
			case f[0] == strconv.Itoa(front) && f[3] == "307":
				redirected++
			case f[0] == strconv.Itoa(storage):
				atStorage++
				if !strings.Contains(l, "auth=[-]") || !strings.Contains(l, "cookie=[-]") {
					t.Errorf("the storage port received credentials from the client: %s", l)
				}
			}
		}
		if redirected < 3 || atStorage < 3 {
			t.Fatalf("%d blob GETs redirected, %d served by the storage port; want every blob (3) both ways", redirected, atStorage)
		}
	})

	t.Run("https front, 307 to another https port", func(t *testing.T) {
		host := "localhost:" + strconv.Itoa(tlsFront)
		login(t, cfg, host, "bob", "builder", "--certs-dir", certs)
		out, stderr, code := runHoist(t, cfg, "pull", "--certs-dir", certs, host+"/team/app:v1", "oci:"+filepath.Join(dir, "tls")+":v1")
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("pull through 307s over https: exit %d: %s%s", code, out, stderr)
		}
		if n := blobGetsAt(t, logs, tlsStorage); n < 3 {
			t.Fatalf("the https storage port served %d blob GETs, want 3", n)
		}
	})

	t.Run("https front, 307 to plain http: refused", func(t *testing.T) {
		host := "localhost:" + strconv.Itoa(tlsToPlain)
		login(t, cfg, host, "bob", "builder", "--certs-dir", certs)
		_, stderr, code := runHoist(t, cfg, "pull", "--certs-dir", certs, host+"/team/app:v1", "oci:"+filepath.Join(dir, "downgrade")+":v1")
		if code != 1 || !strings.Contains(stderr, "refusing a redirect from https to plain http") {
			t.Fatalf("pull through a 307 from https to http: exit %d: %s", code, stderr)
		}
	})
}

// TestNginxBodyCap pushes through nginx with its default body cap
// (client_max_body_size 1m): the 413 on a monolithic upload switches hoist
// to chunks under the cap, and --chunk-size stays under it from the start.
func TestNginxBodyCap(t *testing.T) {
	upstream := testutil.DockerRegistry(t)
	port, small := testutil.FreePort(t), testutil.FreePort(t)
	logs := startNginx(t, port, fmt.Sprintf(`
  server {
    listen 127.0.0.1:%d;
    client_max_body_size 1m;
    location / {
      %s
    }
  }
  server {
    listen 127.0.0.1:%d;
    client_max_body_size 256k;
    location / {
      %s
    }
  }`, port, proxyTo(upstream), small, proxyTo(upstream)))
	host := "127.0.0.1:" + strconv.Itoa(port)
	dir := t.TempDir()
	refused := func() int {
		n := 0
		for _, l := range accessLog(t, logs) {
			if f := strings.Fields(l); len(f) >= 4 && f[3] == "413" {
				n++
			}
		}
		return n
	}

	want := testLayout(t, filepath.Join(dir, "auto"), "cap-auto", 3<<20)
	out, stderr, code := runHoist(t, nil, "push", "oci:"+filepath.Join(dir, "auto")+":v1", host+"/capped/auto:v1")
	if code != 0 || !strings.Contains(out, want) {
		t.Fatalf("push of 3 MiB layers through a 1 MiB body cap: exit %d: %s%s", code, out, stderr)
	}
	if refused() == 0 {
		t.Fatal("nginx refused no body: the test did not exercise the cap")
	}
	if out, stderr, code := runHoist(t, nil, "pull", host+"/capped/auto:v1", "oci:"+filepath.Join(dir, "back")+":v1"); code != 0 || !strings.Contains(out, want) {
		t.Fatalf("pull back: exit %d: %s%s", code, out, stderr)
	}

	before := refused()
	want = testLayout(t, filepath.Join(dir, "explicit"), "cap-explicit", 3<<20)
	out, stderr, code = runHoist(t, nil, "push", "--chunk-size", "524288", "oci:"+filepath.Join(dir, "explicit")+":v1", host+"/capped/explicit:v1")
	if code != 0 || !strings.Contains(out, want) {
		t.Fatalf("push with --chunk-size 524288: exit %d: %s%s", code, out, stderr)
	}
	if n := refused() - before; n != 0 {
		t.Fatalf("with --chunk-size under the cap nginx still refused %d bodies", n)
	}

	// A cap well under the first guess, from a source hoist cannot
	// rewind: the error names the flag that gets under it.
	smallHost := "127.0.0.1:" + strconv.Itoa(small)
	_, stderr, code = runHoist(t, nil, "push", "oci:"+filepath.Join(dir, "explicit")+":v1", smallHost+"/capped/small:v1")
	if code != 1 || !strings.Contains(stderr, "413") || !strings.Contains(stderr, "--chunk-size BYTES") {
		t.Fatalf("push through a 256 KiB cap: exit %d: %s", code, stderr)
	}
	if out, stderr, code := runHoist(t, nil, "push", "--chunk-size", "200000", "oci:"+filepath.Join(dir, "explicit")+":v1", smallHost+"/capped/small:v1"); code != 0 {
		t.Fatalf("push through a 256 KiB cap with --chunk-size 200000: exit %d: %s%s", code, out, stderr)
	}
}
