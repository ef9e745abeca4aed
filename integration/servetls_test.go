//go:build integration

package integration

import (
	"crypto/tls"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// tlsFiles writes a server certificate and key for localhost and returns
// their paths.
func tlsFiles(t *testing.T, ca *testutil.CA, dir string) (string, string) {
	t.Helper()
	srv := ca.Server(t)
	crt, key := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	os.WriteFile(crt, srv.CertPEM, 0o600)
	os.WriteFile(key, srv.KeyPEM, 0o600)
	return crt, key
}

// startServeTLS is startServe on "localhost:PORT", the name the server
// certificate carries.
func startServeTLS(t *testing.T, args ...string) string {
	t.Helper()
	port := testutil.FreePort(t)
	all := append([]string{"serve", "--addr", "127.0.0.1:" + strconv.Itoa(port), "--root", filepath.Join(t.TempDir(), "registry"), "--access-log", ""}, args...)
	testutil.StartProcess(t, port, hoistBin, all...)
	return "localhost:" + strconv.Itoa(port)
}

// With --client-ca, the handshake itself refuses a client without a
// certificate; one with a certificate from that CA gets in.
func TestServeClientCARequired(t *testing.T) {
	dir := t.TempDir()
	ca := testutil.NewCA(t, "server CA")
	clients := testutil.NewCA(t, "client CA")
	crt, key := tlsFiles(t, ca, dir)
	clients.WriteCA(t, dir, "clients.crt")
	host := startServeTLS(t, "--tls-cert", crt, "--tls-key", key, "--client-ca", filepath.Join(dir, "clients.crt"))

	get := func(certs ...tls.Certificate) error {
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), Certificates: certs}}}
		resp, err := c.Get("https://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /v2/ with a certificate: %d", resp.StatusCode)
			}
		}
		return err
	}
	if err := get(); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without a client certificate: %v, want a handshake failure", err)
	}
	if err := get(testutil.NewCA(t, "stranger").Client(t, "x").TLS); err == nil {
		t.Fatal("a certificate from another CA got in")
	}
	if err := get(clients.Client(t, "ci").TLS); err != nil {
		t.Fatalf("with a certificate from the client CA: %v", err)
	}
}

// The original client's set-up: the server asks for any certificate, names
// no CA, and answers 403 unless the CN is admitted. hoist, with certs.d
// pairs a (CN denied) and b (CN allowed), moves on from a's 403 to b and
// succeeds; skopeo, which never falls back, gets the 403.
func TestServeClientCNFallback(t *testing.T) {
	skopeo := testutil.NeedBinary(t, "skopeo", "apt-get install skopeo")
	dir := t.TempDir()
	ca := testutil.NewCA(t, "server CA")
	clients := testutil.NewCA(t, "some client CA")
	crt, key := tlsFiles(t, ca, dir)
	host := startServeTLS(t, "--tls-cert", crt, "--tls-key", key, "--client-cert", "optional", "--client-cn", "allowed")
	certs := filepath.Join(dir, "certs.d")
	ca.WriteCA(t, filepath.Join(certs, host), "ca.crt")
	clients.Client(t, "denied").WritePair(t, filepath.Join(certs, host), "a")
	clients.Client(t, "allowed").WritePair(t, filepath.Join(certs, host), "b")
	env := []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}

	out, stderr, code := runHoist(t, env, "ping", "--certs-dir", certs, host)
	if code != 0 || !strings.Contains(out, "b.cert accepted") || !strings.Contains(out, "a.cert refused: HTTP 403") {
		t.Fatalf("hoist ping: exit %d\n%s%s", code, out, stderr)
	}
	want := exampleDigest(t)
	out, stderr, code = runHoist(t, env, "-q", "--certs-dir", certs, "copy", "oci:../testdata/example:v1", host+"/mtls/hello:v1")
	if code != 0 || strings.TrimSpace(out) != want {
		t.Fatalf("hoist copy through the CN check: exit %d %q\n%s", code, out, stderr)
	}
	out, stderr, code = runHoist(t, env, "-q", "--certs-dir", certs, "copy", host+"/mtls/hello:v1", "oci:"+filepath.Join(dir, "back")+":v1")
	if code != 0 || strings.TrimSpace(out) != want {
		t.Fatalf("hoist pull through the CN check: exit %d %q\n%s", code, out, stderr)
	}

	sk, err := runCombined(skopeo, "inspect", "--cert-dir", filepath.Join(certs, host), "docker://"+host+"/mtls/hello:v1")
	if err == nil || !strings.Contains(sk, "403") && !strings.Contains(strings.ToLower(sk), "denied") {
		t.Fatalf("skopeo with the same certs.d: %v\n%s\nwant the 403", err, sk)
	}
	t.Logf("skopeo, as expected: %s", strings.TrimSpace(sk))
}

// runCombined runs a program and returns its combined output and error.
func runCombined(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}
