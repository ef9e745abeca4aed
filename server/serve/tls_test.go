package serve

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/registry/storage/driver/inmemory"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// tlsServer serves New(opts...) over TLS with a certificate from ca and
// returns a function that GETs /v2/ with the given client certificates:
// the status, or the transport error.
func tlsServer(t *testing.T, ca *testutil.CA, opts ...Option) func(certs ...tls.Certificate) (int, error) {
	t.Helper()
	dir := t.TempDir()
	cert := ca.Server(t)
	crt, key := filepath.Join(dir, "s.crt"), filepath.Join(dir, "s.key")
	os.WriteFile(crt, cert.CertPEM, 0o600)
	os.WriteFile(key, cert.KeyPEM, 0o600)
	s, err := New(append([]Option{WithDriver(inmemory.New()), WithTLS(crt, key)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return func(certs ...tls.Certificate) (int, error) {
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), Certificates: certs},
		}}
		resp, err := c.Get("https://" + ln.Addr().String() + "/v2/")
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
}

func writeCA(t *testing.T, ca *testutil.CA) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "clients.crt")
	os.WriteFile(p, ca.CertPEM, 0o600)
	return p
}

// Required client certificates, verified against the CA, with a CN
// pattern: the handshake refuses a certificate whose CN does not match.
func TestClientCARequiredWithCN(t *testing.T) {
	ca, clients := testutil.NewCA(t, "server CA"), testutil.NewCA(t, "client CA")
	get := tlsServer(t, ca, WithClientCA(writeCA(t, clients)), WithClientCN("ci-*"))
	if code, err := get(clients.Client(t, "ci-runner").TLS); err != nil || code != http.StatusOK {
		t.Fatalf("matching CN: %d %v", code, err)
	}
	if _, err := get(clients.Client(t, "laptop").TLS); err == nil {
		t.Fatal("a certificate whose CN does not match got in")
	}
	if _, err := get(); err == nil {
		t.Fatal("no certificate got in")
	}
}

// Optional client certificates with a CA: none at all gets a 403, and so
// does a certificate from another CA (the server names its CA, so a Go
// client does not even offer that one), while a good one gets in.
func TestClientCertOptionalWithCA(t *testing.T) {
	ca, clients := testutil.NewCA(t, "server CA"), testutil.NewCA(t, "client CA")
	get := tlsServer(t, ca, WithClientCA(writeCA(t, clients)), WithClientCertMode(ClientCertOptional))
	if code, err := get(); err != nil || code != http.StatusForbidden {
		t.Fatalf("no certificate: %d %v, want 403", code, err)
	}
	if code, err := get(testutil.NewCA(t, "stranger").Client(t, "x").TLS); err == nil && code != http.StatusForbidden {
		t.Fatalf("a certificate from another CA: %d, want 403 or a failed handshake", code)
	}
	if code, err := get(clients.Client(t, "anyone").TLS); err != nil || code != http.StatusOK {
		t.Fatalf("a certificate from the CA: %d %v", code, err)
	}
}
