package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/hosts"
	"github.com/hoist-dev/hoist/internal/testutil"
)

// fakeClock records the waits the retrier asks for, without sleeping.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

// scripted answers with the given statuses in turn (then 200), each with
// the given Retry-After, and counts requests.
func scripted(t *testing.T, retryAfter string, statuses ...int) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i < len(statuses) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(statuses[i])
			return
		}
		io.WriteString(w, "done")
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestRetry(t *testing.T) {
	start := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		retryAfter string
		statuses   []int
		method     string
		wantStatus int
		wantCalls  int32
		wantWaits  []time.Duration // nil: don't check exact values
		wantErr    string          // the request fails with this text
	}{
		{"429 with Retry-After seconds", "3", []int{429}, "GET", 200, 2, []time.Duration{3 * time.Second}, ""},
		{"503 with Retry-After date", start.Add(7 * time.Second).Format(http.TimeFormat), []int{503}, "GET", 200, 2, []time.Duration{7 * time.Second}, ""},
		{"500 then 200", "", []int{500}, "GET", 200, 2, nil, ""},
		{"502, 504, 408 then 200", "", []int{502, 504, 408}, "HEAD", 200, 4, nil, ""},
		{"Retry-After beyond the cap is not waited out", "3600", []int{429}, "GET", 0, 1, []time.Duration{},
			"asks for a wait of 1h0m0s, more than the 1m0s hoist waits: "},
		{"Retry-After on every answer is waited out up to the budget", "20", []int{429, 429, 429, 429, 429}, "GET", 0, 4,
			[]time.Duration{20 * time.Second, 20 * time.Second, 20 * time.Second}, "after 1m0s of waiting, the most hoist waits is 1m0s: "},
		{"gives up after the attempts", "1", []int{503, 503, 503, 503, 503, 503}, "GET", 503, 5, nil, ""},
		{"POST is not retried", "", []int{503}, "POST", 503, 1, []time.Duration{}, ""},
		{"404 is not retried", "", []int{404}, "GET", 404, 1, []time.Duration{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, calls := scripted(t, tc.retryAfter, tc.statuses...)
			clock := &fakeClock{now: start}
			var notices []string
			tr := New(WithClock(clock), WithWaitNotice(func(w Wait) { notices = append(notices, w.String()) }))
			req, _ := http.NewRequest(tc.method, srv.URL, nil)
			resp, err := tr.RoundTrip(req)
			if tc.wantErr != "" {
				var we *WaitBudgetError
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &we) || !errors.Is(err, errcode.ErrRateLimited) {
					t.Fatalf("err = %v, want a *WaitBudgetError matching ErrRateLimited saying %q", err, tc.wantErr)
				}
				if calls.Load() != tc.wantCalls || !equalDurations(clock.waits, tc.wantWaits) {
					t.Fatalf("%d calls, waits %v; want %d, %v", calls.Load(), clock.waits, tc.wantCalls, tc.wantWaits)
				}
				for _, n := range notices {
					if !strings.Contains(n, "registry asks to wait 20s (429 Too Many Requests)") {
						t.Errorf("notice %q", n)
					}
				}
				if len(notices) != len(tc.wantWaits) {
					t.Errorf("notices %q, want one per wait", notices)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus || calls.Load() != tc.wantCalls {
				t.Fatalf("status %d after %d calls; want %d after %d", resp.StatusCode, calls.Load(), tc.wantStatus, tc.wantCalls)
			}
			if tc.wantWaits != nil && !equalDurations(clock.waits, tc.wantWaits) {
				t.Errorf("waited %v, want %v", clock.waits, tc.wantWaits)
			}
			for _, w := range clock.waits {
				if w <= 0 || w > time.Minute {
					t.Errorf("wait %v out of range", w)
				}
			}
		})
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRetryReplaysBody(t *testing.T) {
	var bodies []string
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		n++
		first := n == 1
		mu.Unlock()
		if first {
			w.WriteHeader(502)
		}
	}))
	defer srv.Close()
	tr := New(WithClock(&fakeClock{}))

	req, _ := http.NewRequest("PUT", srv.URL, strings.NewReader("manifest")) // has GetBody
	resp, err := tr.RoundTrip(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	if strings.Join(bodies, ",") != "manifest,manifest" {
		t.Fatalf("server saw bodies %q", bodies)
	}

	// A stream without GetBody cannot be sent twice: the 502 comes back as it is.
	bodies, n = nil, 0
	req, _ = http.NewRequest("PUT", srv.URL, io.NopCloser(strings.NewReader("stream")))
	resp, err = tr.RoundTrip(req)
	if err != nil || resp.StatusCode != 502 || len(bodies) != 1 {
		t.Fatalf("got %v %v after %d requests; want the 502 after one", resp, err, len(bodies))
	}
}

func TestRetryOnDroppedConnection(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close() // reset before any response
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	tr := New(WithClock(&fakeClock{}))
	resp, body, err := get(t, tr, srv.URL)
	if err != nil || resp.StatusCode != 200 || body != "ok" || n.Load() != 2 {
		t.Fatalf("%v %q %v after %d", resp, body, err, n.Load())
	}
}

func TestRedirects(t *testing.T) {
	type seen struct{ auth, cookie string }
	var other seen
	otherSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other = seen{r.Header.Get("Authorization"), r.Header.Get("Cookie")}
		io.WriteString(w, "blob")
	}))
	defer otherSrv.Close()
	var same seen
	var regURL string
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cross":
			http.Redirect(w, r, otherSrv.URL+"/storage", http.StatusTemporaryRedirect)
		case "/same":
			http.Redirect(w, r, "/final", http.StatusFound)
		case "/final":
			same = seen{r.Header.Get("Authorization"), r.Header.Get("Cookie")}
		}
	}))
	defer reg.Close()
	regURL = reg.URL
	client := NewClient(New())
	do := func(path string) {
		req, _ := http.NewRequest("GET", regURL+path, nil)
		req.Header.Set("Authorization", "Bearer secret")
		req.Header.Set("Cookie", "session=1")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	do("/cross")
	if other.auth != "" || other.cookie != "" {
		t.Errorf("another host (different port) received Authorization %q, Cookie %q", other.auth, other.cookie)
	}
	do("/same")
	if same.auth != "Bearer secret" || same.cookie != "session=1" {
		t.Errorf("same origin lost headers: %+v", same)
	}

	// https -> http is refused.
	ca := testutil.NewCA(t, "ca")
	tlsSrv := newTLSServer(t, ca, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherSrv.URL+"/storage", http.StatusFound)
	}, nil)
	client = NewClient(New(WithHosts(&hosts.Config{CertsDirs: []string{certsDir(t, tlsSrv.host, ca, nil)}})))
	_, err := client.Get(tlsSrv.URL)
	if !errors.Is(err, ErrInsecureRedirect) {
		t.Fatalf("got %v; want ErrInsecureRedirect", err)
	}
}

func TestPlainHTTPPolicy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.URL.Path) }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)

	// Loopback: https is tried first, then plain http, and the choice sticks.
	tr := New(noRetry())
	resp, body, err := get(t, tr, "https://"+u.Host+"/v2/")
	if err != nil || resp.StatusCode != 200 || body != "/v2/" || resp.Request.URL.Scheme != "http" {
		t.Fatalf("loopback fallback: %v %q %v", resp, body, err)
	}

	// A request with a body is re-sent over http only if nothing was consumed.
	req, _ := http.NewRequest("PUT", "https://"+u.Host+"/x", io.NopCloser(strings.NewReader("data")))
	tr2 := New(noRetry())
	resp, err = tr2.RoundTrip(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("fallback with an unread body: %v %v", resp, err)
	}

	// A non-loopback host is never spoken to over http.
	_, _, err = get(t, New(), "http://registry.example.com/v2/")
	if !errors.Is(err, ErrPlainHTTP) || !strings.Contains(err.Error(), "allow plain http with hosts.Config.Insecure for registry.example.com") {
		t.Fatalf("got %v; want ErrPlainHTTP with the fix", err)
	}
}

func TestBodyNotReplayedTruncated(t *testing.T) {
	ca := testutil.NewCA(t, "registry CA")
	clientCA := testutil.NewCA(t, "client CA")
	var got []string
	var mu sync.Mutex
	srv := newTLSServer(t, ca, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.TLS.PeerCertificates[0].Subject.CommonName+"="+string(b))
		mu.Unlock()
		requireCN("b", 403)(w, r)
	}, func(c *tls.Config) { c.ClientAuth = tls.RequireAnyClientCert })
	dirs := certsDir(t, srv.host, ca, map[string]*testutil.Cert{"a": clientCA.Client(t, "a"), "b": clientCA.Client(t, "b")})
	tr := New(WithHosts(&hosts.Config{CertsDirs: []string{dirs}}), noRetry())

	// A consumed stream: the error says so, and b never sees a truncated body.
	req, _ := http.NewRequest("PUT", srv.URL+"/blob", io.NopCloser(strings.NewReader("layer bytes")))
	_, err := tr.RoundTrip(req)
	if !errors.Is(err, ErrBodyNotReplayable) || !strings.Contains(err.Error(), "a.cert") {
		t.Fatalf("got %v; want ErrBodyNotReplayable naming a.cert", err)
	}
	// A replayable body goes to b whole.
	req, _ = http.NewRequest("PUT", srv.URL+"/blob", strings.NewReader("layer bytes"))
	resp, err := tr.RoundTrip(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, ",") != "a=layer bytes,a=layer bytes,b=layer bytes" {
		t.Fatalf("server saw %q", got)
	}
}

func TestStall(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.Write([]byte("first bytes"))
		w.(http.Flusher).Flush()
		<-release
	}))
	defer srv.Close()
	defer close(release)
	tr := New(WithStallTimeout(200*time.Millisecond), noRetry())
	req, _ := http.NewRequest("GET", srv.URL, nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	start := time.Now()
	b, err := io.ReadAll(resp.Body)
	var se *StallError
	if !errors.As(err, &se) || string(b) != "first bytes" {
		t.Fatalf("read %q, %v; want the first bytes then a StallError", b, err)
	}
	if !strings.Contains(err.Error(), srv.Listener.Addr().String()) {
		t.Errorf("stall error %q does not name the host", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stall detected after %v", d)
	}
}

func TestHeadersAndHTTP2(t *testing.T) {
	ca := testutil.NewCA(t, "ca")
	var ua, extra, proto string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua, extra, proto = r.UserAgent(), r.Header.Get("X-Meta"), r.Proto
	}))
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server(t).TLS}}
	srv.StartTLS()
	defer srv.Close()
	host := srv.Listener.Addr().String()
	tr := New(WithHosts(&hosts.Config{CertsDirs: []string{certsDir(t, host, ca, nil)}}),
		WithHeaders(http.Header{"X-Meta": {"m"}}))
	if _, _, err := get(t, tr, srv.URL); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ua, "hoist/") || !strings.Contains(ua, "linux/") || extra != "m" || proto != "HTTP/2.0" {
		t.Fatalf("User-Agent %q, X-Meta %q, proto %q", ua, extra, proto)
	}
}

func TestProxyFromEnvironment(t *testing.T) {
	ca := testutil.NewCA(t, "ca")
	reg := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "via proxy") }))
	reg.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server(t, "registry.test").TLS}}
	reg.StartTLS()
	defer reg.Close()
	_, port, _ := net.SplitHostPort(reg.Listener.Addr().String())

	var connects atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect || r.Host != "registry.test:"+port {
			http.Error(w, "unexpected "+r.Method+" "+r.Host, 400)
			return
		}
		connects.Add(1)
		up, err := net.Dial("tcp", reg.Listener.Addr().String())
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		c, rw, _ := w.(http.Hijacker).Hijack()
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() { io.Copy(up, rw); up.Close() }()
		io.Copy(c, bufio.NewReader(up))
		c.Close()
	}))
	defer proxy.Close()

	t.Setenv("HTTPS_PROXY", proxy.URL)
	t.Setenv("NO_PROXY", "skip.test")
	host := "registry.test:" + port
	tr := New(WithHosts(&hosts.Config{CertsDirs: []string{certsDir(t, host, ca, nil)}}), noRetry())
	resp, body, err := get(t, tr, "https://"+host+"/v2/")
	if err != nil || resp.StatusCode != 200 || body != "via proxy" || connects.Load() != 1 {
		t.Fatalf("%v %q %v, %d CONNECTs", resp, body, err, connects.Load())
	}
	// NO_PROXY is honoured too.
	r, _ := http.NewRequest("GET", "https://skip.test/v2/", nil)
	if u, err := tr.opts.proxy(r); err != nil || u != nil {
		t.Fatalf("NO_PROXY host proxied via %v (%v)", u, err)
	}
}

// A registry reached over plain http (loopback, after the https attempt
// failed) may redirect to plain http elsewhere: the hop is judged by the
// scheme it was sent with, not by the https URL asked for first.
func TestRedirectFromPlainHTTPRegistry(t *testing.T) {
	var storageAuth atomic.Value
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		storageAuth.Store(r.Header.Get("Authorization") + "|" + r.Header.Get("Cookie"))
		io.WriteString(w, "blob bytes")
	}))
	defer storage.Close()
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, storage.URL+"/bucket/blob?X-Amz-Signature=s", http.StatusTemporaryRedirect)
	}))
	defer reg.Close()
	u, _ := url.Parse(reg.URL)
	client := NewClient(New(noRetry()))
	req, _ := http.NewRequest(http.MethodGet, "https://"+u.Host+"/v2/app/blobs/sha256:0", nil)
	req.Header.Set("Authorization", "Bearer secret")
	req.Header.Set("Cookie", "session=1")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("307 from a plain-http loopback registry to another port: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "blob bytes" || resp.Request.URL.Scheme != "http" {
		t.Fatalf("got %q from %s", body, resp.Request.URL)
	}
	if got := storageAuth.Load(); got != "|" {
		t.Fatalf("the storage host (another origin) received Authorization|Cookie %q", got)
	}
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A host that is not loopback and answers https with plain http is
// refused, with the host-policy setting that would allow it named.
func TestNoTLSHostNamesTheSetting(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer plain.Close()
	addr := plain.Listener.Addr().String()
	// registry.example.com is reached at the plain server, as DNS would.
	tr := New(noRetry(), WithHosts(&hosts.Config{CertsDirs: []string{}}), WithBaseWrapper(func(host string, rt http.RoundTripper) http.RoundTripper {
		return rtFunc(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			r.URL.Host = addr
			return rt.RoundTrip(r)
		})
	}))
	_, _, err := get(t, tr, "https://registry.example.com/v2/")
	var oh *OptionHint
	if !errors.Is(err, ErrNoTLS) || !errors.Is(err, ErrPlainHTTP) || !errors.As(err, &oh) || oh.Option != "hosts.Config.Insecure" || oh.Value != "registry.example.com" {
		t.Fatalf("got %v; want ErrNoTLS naming hosts.Config.Insecure for the host", err)
	}
}
