package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hoist-dev/hoist/hosts"
	"github.com/hoist-dev/hoist/internal/testutil"
)

// tlsServer is a TLS registry stand-in that counts handshakes and answers
// with handler. configure adjusts its tls.Config before it starts.
type tlsServer struct {
	*httptest.Server
	handshakes atomic.Int32
	host       string
}

func newTLSServer(t *testing.T, ca *testutil.CA, handler http.HandlerFunc, configure func(*tls.Config)) *tlsServer {
	t.Helper()
	s := &tlsServer{}
	srv := httptest.NewUnstartedServer(handler)
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{ca.Server(t).TLS},
		VerifyConnection: func(tls.ConnectionState) error {
			s.handshakes.Add(1)
			return nil
		},
	}
	if configure != nil {
		configure(srv.TLS)
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	s.Server = srv
	s.host = srv.Listener.Addr().String()
	return s
}

// requireCN answers 200 only to a client certificate with the given common
// name, and 403 otherwise: the original client's apache CGI, made stricter.
func requireCN(cn string, refusal int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != cn {
			w.WriteHeader(refusal)
			return
		}
		io.WriteString(w, "hello "+cn)
	}
}

func get(t *testing.T, rt http.RoundTripper, url string) (*http.Response, string, error) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b), nil
}

// certsDir builds certs.d/HOST with the CA and the named client pairs.
func certsDir(t *testing.T, host string, ca *testutil.CA, pairs map[string]*testutil.Cert) string {
	root := t.TempDir()
	dir := filepath.Join(root, host)
	if ca != nil {
		ca.WriteCA(t, dir, "ca.crt")
	}
	for name, c := range pairs {
		c.WritePair(t, dir, name)
	}
	return root
}

func noRetry() Option { return WithRetryPolicy(RetryPolicy{MaxAttempts: 1}) }

func TestCAOnly(t *testing.T) {
	ca := testutil.NewCA(t, "registry CA")
	srv := newTLSServer(t, ca, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }, nil)
	tr := New(WithHosts(&hosts.Config{CertsDirs: []string{certsDir(t, srv.host, ca, nil)}}))
	resp, body, err := get(t, tr, srv.URL)
	if err != nil || resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("got %v %q %v", resp, body, err)
	}
}

func TestNoDirectoryUsesSystemRoots(t *testing.T) {
	ca := testutil.NewCA(t, "private CA")
	srv := newTLSServer(t, ca, func(w http.ResponseWriter, r *http.Request) {}, nil)
	tr := New(WithHosts(&hosts.Config{CertsDirs: []string{t.TempDir()}}), noRetry())
	_, _, err := get(t, tr, srv.URL)
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) {
		t.Fatalf("want an unknown-authority error from the system roots, got %v", err)
	}
}

func TestClientCertFallback(t *testing.T) {
	ca := testutil.NewCA(t, "registry CA")
	clientCA1, clientCA2 := testutil.NewCA(t, "client CA 1"), testutil.NewCA(t, "client CA 2")
	a, b := clientCA1.Client(t, "a"), clientCA2.Client(t, "b")
	anyCert := func(c *tls.Config) { c.ClientAuth = tls.RequireAnyClientCert }

	tests := []struct {
		name      string
		handler   http.HandlerFunc
		configure func(*tls.Config)
		status    int
		attempts  string // cert:status|err, in order
	}{
		{"403 for the first, no CA list sent", requireCN("b", 403), anyCert, 200, "a.cert:403 b.cert:200"},
		{"handshake rejected: only b's CA is trusted", requireCN("b", 403), func(c *tls.Config) {
			c.ClientAuth = tls.RequireAndVerifyClientCert
			c.ClientCAs = clientCA2.Pool()
		}, 200, "a.cert:err b.cert:200"},
		{"5xx for the first", requireCN("b", 503), anyCert, 200, "a.cert:503 b.cert:200"},
		{"all refused returns the last answer", requireCN("nobody", 403), anyCert, 403, "a.cert:403 b.cert:403"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTLSServer(t, ca, tc.handler, tc.configure)
			dirs := certsDir(t, srv.host, ca, map[string]*testutil.Cert{"a": a, "b": b})
			tr := New(WithHosts(&hosts.Config{CertsDirs: []string{dirs}}), noRetry())
			trace := &Trace{}
			req, _ := http.NewRequestWithContext(WithTrace(context.Background(), trace), "GET", srv.URL, nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if got := summarize(trace.Attempts()); got != tc.attempts {
				t.Errorf("attempts %q, want %q", got, tc.attempts)
			}
		})
	}
}

func summarize(as []CertAttempt) string {
	var parts []string
	for _, a := range as {
		s := a.Cert + ":"
		if a.Err != nil {
			s += "err"
		} else {
			s += strconv.Itoa(a.Status)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestWinnerRemembered(t *testing.T) {
	ca := testutil.NewCA(t, "registry CA")
	clientCA := testutil.NewCA(t, "client CA")
	var allowed atomic.Value
	allowed.Store("b")
	srv := newTLSServer(t, ca, func(w http.ResponseWriter, r *http.Request) {
		requireCN(allowed.Load().(string), 403)(w, r)
	}, func(c *tls.Config) { c.ClientAuth = tls.RequireAnyClientCert })
	srv.Config.SetKeepAlivesEnabled(false) // one handshake per request, so counting them counts attempts
	dirs := certsDir(t, srv.host, ca, map[string]*testutil.Cert{"a": clientCA.Client(t, "a"), "b": clientCA.Client(t, "b")})
	tr := New(WithHosts(&hosts.Config{CertsDirs: []string{dirs}}), noRetry())

	for i := range 4 {
		resp, body, err := get(t, tr, srv.URL)
		if err != nil || resp.StatusCode != 200 || body != "hello b" {
			t.Fatalf("request %d: %v %q %v", i, resp, body, err)
		}
	}
	if n := srv.handshakes.Load(); n != 5 {
		t.Fatalf("%d handshakes for 4 requests; want 5 (a and b once, then b alone)", n)
	}

	// The server changes its mind: the remembered b now fails, so the
	// order is tried again from the start and a wins.
	allowed.Store("a")
	srv.handshakes.Store(0)
	resp, body, err := get(t, tr, srv.URL)
	if err != nil || resp.StatusCode != 200 || body != "hello a" {
		t.Fatalf("after the switch: %v %q %v", resp, body, err)
	}
	get(t, tr, srv.URL)
	if n := srv.handshakes.Load(); n != 3 {
		t.Fatalf("%d handshakes; want 3 (b refused, a, then a alone)", n)
	}
}

func TestBrokenCertsDir(t *testing.T) {
	ca := testutil.NewCA(t, "registry CA")
	dirs := certsDir(t, "reg.example:5000", ca, map[string]*testutil.Cert{"a": ca.Client(t, "a")})
	// remove the key: every request to that host must fail, naming both files
	os.Remove(filepath.Join(dirs, "reg.example:5000", "a.key"))
	tr := New(WithHosts(&hosts.Config{CertsDirs: []string{dirs}}))
	_, _, err := get(t, tr, "https://reg.example:5000/v2/")
	if err == nil || !strings.Contains(err.Error(), "a.cert") || !strings.Contains(err.Error(), "a.key") {
		t.Fatalf("got %v; want an error naming a.cert and a.key", err)
	}
}
