package cli

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/probe"
)

func TestPingReportsClientCert(t *testing.T) {
	ca := testutil.NewCA(t, "registry CA")
	clientCA := testutil.NewCA(t, "client CA")
	reg := testutil.NewRegistry(t, testutil.WithTLS(ca.Server(t)), testutil.WithClientAuth(tls.RequestClientCert), testutil.WithMiddleware(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != "b" {
				http.Error(w, "client certificate refused", http.StatusForbidden)
				return
			}
			h.ServeHTTP(w, r)
		})
	}))
	certs := t.TempDir()
	dir := filepath.Join(certs, reg.Host)
	ca.WriteCA(t, dir, "ca.crt")
	clientCA.Client(t, "a").WritePair(t, dir, "a")
	clientCA.Client(t, "b").WritePair(t, dir, "b")

	out, stderr, code := hoist(t, "", "ping", "--certs-dir", certs, reg.Host)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"protocols:   v2 (over https)", "client cert: b.cert accepted", "client cert: a.cert refused: HTTP 403", "tls:         TLS 1.3", "issuer: CN=registry CA"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	out, _, code = hoist(t, "", "ping", "--json", "--certs-dir", certs, reg.Host)
	var rep probe.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || rep.ClientCert != "b.cert" || rep.Protocols[0] != "v2" {
		t.Fatalf("--json: %v %d %+v", err, code, rep)
	}
}

func TestPingPlainLoopback(t *testing.T) {
	reg := testutil.NewRegistry(t)
	out, stderr, code := hoist(t, "", "ping", reg.Host)
	if code != 0 || !strings.Contains(out, "v2 (over http)") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
}

func TestPingUnreachable(t *testing.T) {
	out, stderr, code := hoist(t, "", "ping", "127.0.0.1:1")
	if code != 1 || !strings.Contains(stderr, "127.0.0.1:1") || out != "" {
		t.Fatalf("exit %d, %q", code, stderr)
	}
}
