package testutil

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// RoundRobin is an HTTP reverse proxy on 127.0.0.1 in front of several
// registry instances: each request goes to the next backend in turn, so
// consecutive requests of one client alternate between them, and to the
// one after when a backend refuses the connection (an instance that is
// down). It keeps a record of every request.
type RoundRobin struct {
	Host     string // host:port the proxy listens on
	backends []string
	next     atomic.Uint64
	mu       sync.Mutex
	records  []ProxyRecord
	// OnBody, if set, is called as each request's body passes, with the
	// backend it goes to and the bytes forwarded so far.
	OnBody func(backend int, r *http.Request, sent int64)
}

// ProxyRecord is one request the proxy forwarded.
type ProxyRecord struct {
	Backend      int           // index of the backend that answered (or failed)
	Method, Path string        // the request
	Query        string        // its query (?digest= of an upload's last PUT)
	ContentRange string        // the request's Content-Range, for uploads
	Status       int           // the backend's status; 0 when the request failed
	Location     string        // the answer's Location
	Body         string        // the start of an error answer's body (status 400 and up)
	Took         time.Duration // until the answer's headers
	Err          string        // why it failed, when it did
}

// StartRoundRobin starts the proxy in front of backends (host:port each)
// and stops it when the test ends.
func StartRoundRobin(t testing.TB, backends ...string) *RoundRobin {
	t.Helper()
	rr, stop := NewRoundRobin(backends...)
	t.Cleanup(stop)
	return rr
}

// NewRoundRobin is StartRoundRobin for programs that are not tests (the
// benchmark); it returns the function that stops the proxy.
func NewRoundRobin(backends ...string) (*RoundRobin, func()) {
	rr := &RoundRobin{backends: backends}
	base := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	proxy := &httputil.ReverseProxy{
		Director:      func(r *http.Request) { r.URL.Scheme = "http"; r.URL.Host = "backend" },
		Transport:     roundTripFunc(func(r *http.Request) (*http.Response, error) { return rr.roundTrip(base, r) }),
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	srv := httptest.NewServer(proxy)
	rr.Host = srv.Listener.Addr().String()
	return rr, func() {
		srv.CloseClientConnections()
		srv.Close()
		base.CloseIdleConnections()
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// roundTrip sends r to the next backend, moving on while backends refuse
// the connection (nothing of the request was sent then).
func (rr *RoundRobin) roundTrip(base *http.Transport, r *http.Request) (*http.Response, error) {
	first := int(rr.next.Add(1)-1) % len(rr.backends)
	var lastErr error
	for try := range rr.backends {
		b := (first + try) % len(rr.backends)
		out := r.Clone(r.Context())
		out.URL.Host = rr.backends[b]
		if r.Body != nil && r.Body != http.NoBody {
			out.Body = &countingBody{rc: r.Body, on: func(n int64) {
				if rr.OnBody != nil {
					rr.OnBody(b, r, n)
				}
			}}
		}
		t0 := time.Now()
		resp, err := base.RoundTrip(out)
		rec := ProxyRecord{Took: time.Since(t0), Backend: b, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, ContentRange: r.Header.Get("Content-Range")}
		if err != nil {
			rec.Err = err.Error()
			rr.record(rec)
			var op *net.OpError
			if errors.As(err, &op) && op.Op == "dial" {
				lastErr = err
				continue
			}
			return nil, err
		}
		rec.Status, rec.Location = resp.StatusCode, resp.Header.Get("Location")
		if resp.StatusCode >= 400 {
			head := make([]byte, 2048)
			n, _ := io.ReadFull(resp.Body, head)
			rec.Body = string(head[:n])
			resp.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(head[:n]), resp.Body), resp.Body}
		}
		rr.record(rec)
		return resp, nil
	}
	return nil, lastErr
}

func (rr *RoundRobin) record(r ProxyRecord) {
	rr.mu.Lock()
	rr.records = append(rr.records, r)
	rr.mu.Unlock()
}

// Records returns what the proxy forwarded so far, in order.
func (rr *RoundRobin) Records() []ProxyRecord {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return append([]ProxyRecord(nil), rr.records...)
}

// countingBody reports the bytes read through it.
type countingBody struct {
	rc io.ReadCloser
	n  int64
	on func(int64)
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	c.n += int64(n)
	if n > 0 {
		c.on(c.n)
	}
	return n, err
}

// Close leaves the incoming body open: the transport closes what it was
// given even when it could not connect, and the next backend tried needs
// the body; the server closes it when the request ends.
func (c *countingBody) Close() error { return nil }
