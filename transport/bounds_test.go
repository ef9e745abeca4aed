package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/hosts"
)

// Hostile peers: each bound ends the request with an error naming the
// host and what went wrong, after a bounded number of attempts. The
// timeouts are short so that the tests are quick; the defaults scale them.

// silentListener accepts TCP connections and never writes a byte.
func silentListener(t *testing.T) (addr string, accepted *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = &atomic.Int32{}
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			conns = append(conns, c)
			go io.Copy(io.Discard, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String(), accepted
}

func quickTransport(opts ...Option) *Transport {
	return New(append([]Option{WithHosts(&hosts.Config{CertsDirs: []string{}}), WithClock(&fakeClock{now: time.Now()})}, opts...)...)
}

func TestNeverAnswers(t *testing.T) {
	addr, accepted := silentListener(t)
	tr := quickTransport(WithResponseHeaderTimeout(200 * time.Millisecond))
	start := time.Now()
	req, _ := http.NewRequest("GET", "http://"+addr+"/v2/", nil)
	_, err := tr.RoundTrip(req)
	var he *HeaderTimeoutError
	if !errors.As(err, &he) || !strings.Contains(err.Error(), addr+": no answer within 200ms of the request") {
		t.Fatalf("err = %v, want a HeaderTimeoutError naming %s", err, addr)
	}
	// Two timeouts in a row end it: never five.
	if n := accepted.Load(); n != 2 {
		t.Errorf("%d connections, want 2 (one retry after a timeout)", n)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestTLSHandshakeNeverAnswered(t *testing.T) {
	addr, accepted := silentListener(t)
	tr := quickTransport(WithTLSHandshakeTimeout(200 * time.Millisecond))
	req, _ := http.NewRequest("GET", "https://"+addr+"/v2/", nil)
	_, err := tr.RoundTrip(req)
	if err == nil || !strings.Contains(err.Error(), "TLS handshake timeout") {
		t.Fatalf("err = %v, want a TLS handshake timeout", err)
	}
	if n := accepted.Load(); n > 4 {
		t.Errorf("%d connections for one request", n)
	}
}

// dripServer sends headers for size bytes, then one byte every tick, or
// nothing at all when tick is 0.
func dripServer(t *testing.T, size int, tick time.Duration) (*httptest.Server, *atomic.Int32) {
	var opens atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opens.Add(1)
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		for i := 0; i < size; i++ {
			if tick == 0 {
				<-r.Context().Done()
				return
			}
			select {
			case <-r.Context().Done():
				return
			case <-time.After(tick):
			}
			w.Write([]byte{'x'})
			http.NewResponseController(w).Flush()
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &opens
}

// resumable GETs srv's body through tr.
func resumable(tr http.RoundTripper, url string, size int64) Resumable {
	hc := NewClient(tr)
	return Resumable{Name: "blob x", Size: size, MaxResumes: 5, Open: func(off int64) (*http.Response, error) {
		req, _ := http.NewRequest("GET", url, nil)
		if off > 0 {
			req.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-")
		}
		return hc.Do(req)
	}}
}

// TestDripFailsOnThroughput: a body that drips a byte every 20 ms is
// given up on for its rate, after one resume that drips as well, naming
// the host and the rate; the 2 s stall timeout never fires.
func TestDripFailsOnThroughput(t *testing.T) {
	srv, opens := dripServer(t, 1<<20, 20*time.Millisecond)
	tr := quickTransport(WithStallTimeout(2*time.Second), WithMinThroughput(1024, 300*time.Millisecond))
	host := strings.TrimPrefix(srv.URL, "http://")
	b, err := OpenResumingBody(context.Background(), resumable(tr, srv.URL, 1<<20), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, err = io.Copy(io.Discard, b)
	var se *SlowError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), host+": sent ") || !strings.Contains(err.Error(), "below the minimum of 1.0 KiB/s") ||
		!strings.Contains(err.Error(), "after 2 timeouts in a row") {
		t.Fatalf("err = %v, want a SlowError naming %s and the rates, after 2 timeouts", err, host)
	}
	if se.Rate <= 0 || se.Rate > 100 {
		t.Errorf("measured %.1f B/s, the server sends about 50", se.Rate)
	}
	if n := opens.Load(); n != 2 {
		t.Errorf("%d GETs, want 2 (one resume)", n)
	}
}

// TestStopsAfterHeaders: headers, then nothing; the throughput rule ends
// each attempt after its window, two in a row end the body.
func TestStopsAfterHeaders(t *testing.T) {
	srv, opens := dripServer(t, 1000, 0)
	tr := quickTransport(WithStallTimeout(time.Minute), WithMinThroughput(1024, 300*time.Millisecond))
	b, err := OpenResumingBody(context.Background(), resumable(tr, srv.URL, 1000), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, err = io.Copy(io.Discard, b)
	if !errors.As(err, new(*SlowError)) || !strings.Contains(err.Error(), "sent 0 B/s over 300ms") {
		t.Fatalf("err = %v, want a SlowError at 0 B/s", err)
	}
	if n := opens.Load(); n != 2 {
		t.Errorf("%d GETs, want 2", n)
	}
}

// TestSlowReaderIsNotSlowServer: a caller that stops reading for longer
// than the window is not taken for a slow server.
func TestSlowReaderIsNotSlowServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 64<<10))
	}))
	defer srv.Close()
	tr := quickTransport(WithMinThroughput(1<<20, 100*time.Millisecond))
	req, _ := http.NewRequest("GET", srv.URL, nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 1024)
	if _, err := resp.Body.Read(buf); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatalf("after a pause of the reader: %v", err)
	}
}

// TestWaitBudgetShared: requests of one operation share its budget; once
// it is spent, a 503 is not retried but fails naming the option.
func TestWaitBudgetShared(t *testing.T) {
	srv, calls := scripted(t, "2", 503, 503, 503, 503, 503, 503, 503, 503)
	clock := &fakeClock{now: time.Now()}
	tr := New(WithClock(clock))
	ctx := WithWaitBudget(context.Background(), NewWaitBudget(5*time.Second))
	var errs []error
	for range 2 {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
		_, err := tr.RoundTrip(req)
		errs = append(errs, err)
	}
	// 2 s + 2 s fit in 5 s, a third wait does not; the second request
	// finds the budget spent and does not wait at all.
	if calls.Load() != 4 || len(clock.waits) != 2 {
		t.Fatalf("%d calls, waits %v", calls.Load(), clock.waits)
	}
	for _, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "the most hoist waits is 5s") || !strings.Contains(err.Error(), "(wait longer with hoist.WithMaxWait)") {
			t.Errorf("err = %v", err)
		}
	}
}
