package transport

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/hosts"
	"github.com/hoist-dev/hoist/internal/testutil"
)

// The first GET to a loopback host whose scheme is not known yet goes out
// over plain http while the TLS attempt is still under way: the https
// attempt is held until the plain request has reached the server, which a
// fallback that waited for the TLS failure first would never do.
func TestFirstGetRacesPlainHTTP(t *testing.T) {
	arrived := make(chan struct{})
	var once atomic.Bool
	var plainGets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainGets.Add(1)
		if once.CompareAndSwap(false, true) {
			close(arrived)
		}
		io.WriteString(w, r.URL.Path)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	var tlsTries atomic.Int32
	tr := New(noRetry(), WithBaseWrapper(func(host string, rt http.RoundTripper) http.RoundTripper {
		return rtFunc(func(r *http.Request) (*http.Response, error) {
			if r.URL.Scheme == "https" {
				tlsTries.Add(1)
				select {
				case <-arrived:
				case <-time.After(30 * time.Second):
					return nil, errors.New("the plain http attempt was not sent while the TLS one was under way")
				}
			}
			return rt.RoundTrip(r)
		})
	}))
	resp, body, err := get(t, tr, "https://"+u.Host+"/v2/")
	if err != nil || resp.StatusCode != 200 || body != "/v2/" || resp.Request.URL.Scheme != "http" {
		t.Fatalf("first GET: %v %q %v", resp, body, err)
	}
	// Known plain http now: no TLS attempt, one request.
	if _, body, err = get(t, tr, "https://"+u.Host+"/v2/x"); err != nil || body != "/v2/x" {
		t.Fatalf("second GET: %q %v", body, err)
	}
	if n := tlsTries.Load(); n != 1 {
		t.Errorf("%d TLS attempts; want 1 (the first request's only)", n)
	}
	if n := plainGets.Load(); n != 2 {
		t.Errorf("the server answered %d requests; want 2", n)
	}
}

// A host that speaks TLS keeps its https answer: the plain attempt of the
// race is discarded, and later requests neither race nor fall back.
func TestRaceKeepsTLS(t *testing.T) {
	ca := testutil.NewCA(t, "registry CA")
	srv := newTLSServer(t, ca, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "tls "+r.URL.Path) }, nil)
	var plainTries atomic.Int32
	// Insecure, not a certs.d directory: that would say "TLS" and skip the race.
	tr := New(noRetry(), WithHosts(&hosts.Config{CertsDirs: []string{}, Insecure: []string{srv.host}}),
		WithBaseWrapper(func(host string, rt http.RoundTripper) http.RoundTripper {
			return rtFunc(func(r *http.Request) (*http.Response, error) {
				if r.URL.Scheme == "http" {
					plainTries.Add(1)
				}
				return rt.RoundTrip(r)
			})
		}))
	for i, p := range []string{"/v2/", "/v2/a"} {
		resp, body, err := get(t, tr, "https://"+srv.host+p)
		if err != nil || body != "tls "+p || resp.Request.URL.Scheme != "https" {
			t.Fatalf("GET %d: %v %q %v", i, resp, body, err)
		}
	}
	if n := plainTries.Load(); n > 1 {
		t.Errorf("%d plain http attempts; want at most the first request's", n)
	}
}

// Credentials never go out in clear to race a host that may speak TLS: a
// request with Authorization waits for the TLS outcome, as before.
func TestRaceWithoutCredentialsOnly(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	var order []string
	tr := New(noRetry(), WithBaseWrapper(func(host string, rt http.RoundTripper) http.RoundTripper {
		return rtFunc(func(r *http.Request) (*http.Response, error) {
			order = append(order, r.URL.Scheme) // sequential, or the race detector says so
			return rt.RoundTrip(r)
		})
	}))
	req, _ := http.NewRequest(http.MethodGet, "https://"+u.Host+"/v2/", nil)
	req.Header.Set("Authorization", "Basic c2VjcmV0")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if strings.Join(order, ",") != "https,http" {
		t.Fatalf("attempts %v; want https, then http after the TLS failure", order)
	}
}

// Requests that come at once, to a host whose scheme is not known yet,
// wait for the first to find it out: a plain-http host sees one TLS
// attempt, not one per request. Scheme then says what was found, and a
// new Transport told so (AssumePlainHTTP) tries no TLS at all.
func TestSchemeFoundOutOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Path)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	var tlsTries atomic.Int32
	counting := WithBaseWrapper(func(host string, rt http.RoundTripper) http.RoundTripper {
		return rtFunc(func(r *http.Request) (*http.Response, error) {
			if r.URL.Scheme == "https" {
				tlsTries.Add(1)
			}
			return rt.RoundTrip(r)
		})
	})
	tr := New(noRetry(), counting)
	if s := tr.Scheme(u.Host); s != "" {
		t.Fatalf("scheme before any request: %q", s)
	}
	const n = 20
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, body, err := get(t, tr, fmt.Sprintf("https://%s/v2/%d", u.Host, i))
			if err == nil && body != fmt.Sprintf("/v2/%d", i) {
				err = fmt.Errorf("body %q", body)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if k := tlsTries.Load(); k != 1 {
		t.Errorf("%d requests at once: %d TLS attempts, want 1", n, k)
	}
	if s := tr.Scheme(u.Host); s != "http" {
		t.Errorf("scheme after the requests: %q, want http", s)
	}

	tlsTries.Store(0)
	next := New(noRetry(), counting)
	next.AssumePlainHTTP(u.Host)
	if _, body, err := get(t, next, "https://"+u.Host+"/v2/"); err != nil || body != "/v2/" {
		t.Fatalf("told plain http: %q %v", body, err)
	}
	if k := tlsTries.Load(); k != 0 {
		t.Errorf("told plain http: %d TLS attempts, want none", k)
	}
}

// AssumePlainHTTP does not override the host policy: a host that is not
// allowed plain http still gets https.
func TestAssumePlainHTTPKeepsPolicy(t *testing.T) {
	tr := New(noRetry())
	tr.AssumePlainHTTP("registry.example.com")
	if s := tr.Scheme("registry.example.com"); s != "" {
		t.Errorf("a host not allowed plain http: scheme %q after AssumePlainHTTP, want none", s)
	}
}
