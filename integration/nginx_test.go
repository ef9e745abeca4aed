//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// TestNginxClientCertFallback is the original client's certs.d feature
// against a real TLS front: nginx asks for any client certificate without
// naming CAs (ssl_verify_client optional_no_ca), answers 403 unless the
// certificate's CN is "b", and proxies to a docker-registry. certs.d holds
// a.cert (refused) and b.cert (accepted).
func TestNginxClientCertFallback(t *testing.T) {
	upstream := testutil.DockerRegistry(t)

	dir := t.TempDir()
	ca := testutil.NewCA(t, "hoist integration CA")
	clientCA := testutil.NewCA(t, "some other client CA")
	srv := ca.Server(t)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	port := testutil.FreePort(t)
	startNginx(t, port, fmt.Sprintf(`
  server {
    listen 127.0.0.1:%[1]d ssl;
    ssl_certificate %[2]s;
    ssl_certificate_key %[3]s;
    ssl_verify_client optional_no_ca;
    client_max_body_size 0;
    location / {
      if ($ssl_client_s_dn !~ "CN=b(,|$)") { return 403; }
      proxy_pass http://%[4]s;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-Proto https;
      proxy_request_buffering off;
      proxy_buffering off;
    }
  }`, port, write("server.crt", srv.CertPEM), write("server.key", srv.KeyPEM), upstream))

	host := "localhost:" + strconv.Itoa(port)
	certs := filepath.Join(dir, "certs.d")
	ca.WriteCA(t, filepath.Join(certs, host), "ca.crt")
	clientCA.Client(t, "a").WritePair(t, filepath.Join(certs, host), "a")
	clientCA.Client(t, "b").WritePair(t, filepath.Join(certs, host), "b")

	out, stderr, code := runHoist(t, nil, "ping", "--certs-dir", certs, host)
	if code != 0 {
		t.Fatalf("hoist ping: exit %d\n%s%s", code, out, stderr)
	}
	t.Logf("hoist ping %s:\n%s", host, out)
	for _, want := range []string{"v2 (over https)", "b.cert accepted", "a.cert refused: HTTP 403"} {
		if !strings.Contains(out, want) {
			t.Errorf("hoist ping output lacks %q:\n%s", want, out)
		}
	}

	// Without certs.d for the host, the system roots reject nginx's CA.
	_, stderr, code = runHoist(t, nil, "ping", "--certs-dir", t.TempDir(), host)
	if code != 1 || !strings.Contains(stderr, "certificate") {
		t.Errorf("without certs.d: exit %d, %q; want a certificate error", code, stderr)
	}
}
