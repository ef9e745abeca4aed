package testutil

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// FaultAction is the misbehaviour of a Fault. It answers r on w itself, or
// passes r (possibly altered) to forward, which sends it to the proxy's
// target and copies the answer to w (possibly wrapped to damage it).
type FaultAction func(w http.ResponseWriter, r *http.Request, forward http.Handler)

// Fault is one scripted misbehaviour of a FaultProxy.
type Fault struct {
	// Match picks the requests the fault applies to; nil matches all.
	Match func(*http.Request) bool
	// Times is how many matching requests, the first ones, the fault
	// applies to; 0 means every one.
	Times int
	// Action does the damage.
	Action FaultAction
	// Describe, when set, names the damage done to a request it struck,
	// for ProxiedRequest.Kind.
	Describe func(*http.Request) string
}

// ProxiedRequest records one request a FaultProxy handled.
type ProxiedRequest struct {
	Method string
	// Path is the request path and query, as sent.
	Path string
	// Range is the request's Range header.
	Range string
	// Status is the status written to the client; 0 when the connection
	// was cut before one was.
	Status int
	// Fault is the index of the fault that applied, or -1.
	Fault int
	// Kind is what the fault's Describe said it does, or "".
	Kind string
}

// FaultProxy is a reverse proxy on 127.0.0.1 in front of a real server (an
// in-process registry, typically), which passes requests through untouched
// except where a Fault says otherwise. The Host header is passed through,
// so absolute Locations the target builds point back at the proxy.
type FaultProxy struct {
	// URL is the proxy's base URL, e.g. "http://127.0.0.1:41234".
	URL string
	// Host is the proxy's host:port.
	Host string

	srv    *httptest.Server
	mu     sync.Mutex
	faults []Fault
	used   []int
	log    []ProxiedRequest
	struck []ProxiedRequest
	tls    atomic.Int32 // connections that opened with a TLS handshake
}

// NewFaultProxy starts a proxy to target (a base URL such as
// Registry.URL) applying faults, in order: the first fault that matches a
// request and has uses left applies. It stops when the test ends.
func NewFaultProxy(t testing.TB, target string, faults ...Fault) *FaultProxy {
	t.Helper()
	p, err := StartFaultProxy(target, faults...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// StartFaultProxy is NewFaultProxy for programs without a testing.TB (the
// fault campaign): the caller stops the proxy with Close.
func StartFaultProxy(target string, faults ...Fault) (*FaultProxy, error) {
	tu, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(tu)
			pr.Out.Host = pr.In.Host
		},
		Transport:     &http.Transport{DisableCompression: true},
		FlushInterval: -1,
		ErrorLog:      log.New(io.Discard, "", 0),
	}
	p := &FaultProxy{faults: faults, used: make([]int, len(faults))}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusWriter{ResponseWriter: w}
		entry := ProxiedRequest{Method: r.Method, Path: r.URL.RequestURI(), Range: r.Header.Get("Range"), Fault: p.pick(r)}
		if entry.Fault >= 0 && p.faults[entry.Fault].Describe != nil {
			entry.Kind = p.faults[entry.Fault].Describe(r)
		}
		// The entry is logged as the request arrives, so that a client
		// that already has its answer finds it in Requests; its status
		// is filled in when the handler ends.
		p.mu.Lock()
		if entry.Fault >= 0 {
			p.struck = append(p.struck, entry)
		}
		idx := len(p.log)
		p.log = append(p.log, entry)
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			p.log[idx].Status = rec.status
			p.mu.Unlock()
		}()
		if entry.Fault < 0 {
			rp.ServeHTTP(rec, r)
			return
		}
		p.faults[entry.Fault].Action(rec, r, rp)
	}))
	srv.Listener = &tlsCounting{Listener: srv.Listener, n: &p.tls}
	srv.Start()
	p.srv = srv
	p.URL = srv.URL
	p.Host = srv.Listener.Addr().String()
	return p, nil
}

// Close stops the proxy, cutting the connections it still holds.
func (p *FaultProxy) Close() {
	p.srv.CloseClientConnections()
	p.srv.Close()
}

func (p *FaultProxy) pick(r *http.Request) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, f := range p.faults {
		if f.Match != nil && !f.Match(r) {
			continue
		}
		if f.Times > 0 && p.used[i] >= f.Times {
			continue
		}
		p.used[i]++
		return i
	}
	return -1
}

// Requests returns a copy of the requests received so far, in order of
// arrival; one still being handled has Status 0.
func (p *FaultProxy) Requests() []ProxiedRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ProxiedRequest(nil), p.log...)
}

// TLSAttempts returns how many connections to the proxy, which speaks
// plain http, opened with a TLS handshake: a client trying https first.
func (p *FaultProxy) TLSAttempts() int { return int(p.tls.Load()) }

// tlsCounting counts the accepted connections whose first byte opens a
// TLS handshake record (0x16).
type tlsCounting struct {
	net.Listener
	n *atomic.Int32
}

func (l *tlsCounting) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &firstByteConn{Conn: c, n: l.n}, nil
}

type firstByteConn struct {
	net.Conn
	n    *atomic.Int32
	seen atomic.Bool
}

func (c *firstByteConn) Read(b []byte) (int, error) {
	k, err := c.Conn.Read(b)
	if k > 0 && c.seen.CompareAndSwap(false, true) {
		if b[0] == 0x16 {
			c.n.Add(1)
		}
	}
	return k, err
}

// Struck returns the requests a fault applied to so far, recorded as they
// arrived (Status is 0): unlike Requests, it includes requests whose fault
// is still under way, a stall say.
func (p *FaultProxy) Struck() []ProxiedRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ProxiedRequest(nil), p.struck...)
}

// MatchRequest matches requests with this method ("" for any) whose path
// contains pathPart ("" for any).
func MatchRequest(method, pathPart string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return (method == "" || r.Method == method) && strings.Contains(r.URL.Path, pathPart)
	}
}

// Respond answers with status, header and body, without asking the target.
func Respond(status int, header http.Header, body string) FaultAction {
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// CutResponseAfter forwards the request, sends the answer's headers and
// the first n bytes of its body, then drops the connection: the client
// sees an unexpected EOF or a reset in the middle of the body.
func CutResponseAfter(n int64) FaultAction {
	return func(w http.ResponseWriter, r *http.Request, forward http.Handler) {
		forward.ServeHTTP(&bodyWriter{ResponseWriter: w, onWrite: func(off int64, p []byte) []byte {
			if off+int64(len(p)) <= n {
				return p
			}
			w.Write(p[:n-off])
			http.NewResponseController(w).Flush()
			panic(http.ErrAbortHandler)
		}}, r)
	}
}

// CorruptResponseAt forwards the request and flips the bits of the body's
// byte at offset n on the way back.
func CorruptResponseAt(n int64) FaultAction {
	return func(w http.ResponseWriter, r *http.Request, forward http.Handler) {
		forward.ServeHTTP(&bodyWriter{ResponseWriter: w, onWrite: func(off int64, p []byte) []byte {
			if n >= off && n < off+int64(len(p)) {
				p = bytes.Clone(p)
				p[n-off] ^= 0xff
			}
			return p
		}}, r)
	}
}

// IgnoreRange forwards the request without its Range header, as a server
// that does not do ranges would: the client gets 200 and the whole body.
func IgnoreRange() FaultAction {
	return func(w http.ResponseWriter, r *http.Request, forward http.Handler) {
		r.Header.Del("Range")
		forward.ServeHTTP(w, r)
	}
}

// RelativeLocation forwards the request and rewrites an absolute Location
// in the answer to a path without scheme or host ("/v2/…?…").
func RelativeLocation() FaultAction {
	return func(w http.ResponseWriter, r *http.Request, forward http.Handler) {
		forward.ServeHTTP(&headerHook{ResponseWriter: w, hook: func(h http.Header) {
			if u, err := url.Parse(h.Get("Location")); err == nil && u.IsAbs() {
				h.Set("Location", u.RequestURI())
			}
		}}, r)
	}
}

// CutRequestAfter reads the first n bytes of the request body, forwards a
// request holding only those bytes (with Content-Length, and any
// Content-Range, shortened to match), and then drops the client's
// connection without an answer: the target has taken part of an upload
// whose sender never heard back.
func CutRequestAfter(n int64) FaultAction {
	return func(w http.ResponseWriter, r *http.Request, forward http.Handler) {
		buf, _ := io.ReadAll(io.LimitReader(r.Body, n))
		if k := int64(len(buf)); k > 0 {
			r2 := r.Clone(r.Context())
			r2.Body = io.NopCloser(bytes.NewReader(buf))
			r2.ContentLength = k
			r2.Header.Set("Content-Length", strconv.FormatInt(k, 10))
			if cr := r.Header.Get("Content-Range"); cr != "" {
				start, _, _ := strings.Cut(strings.TrimPrefix(cr, "bytes="), "-")
				if s, err := strconv.ParseInt(start, 10, 64); err == nil {
					r2.Header.Set("Content-Range", fmt.Sprintf("%d-%d", s, s+k-1))
				}
			}
			forward.ServeHTTP(httptest.NewRecorder(), r2)
		}
		panic(http.ErrAbortHandler)
	}
}

// DropConnection reads nothing more, forwards nothing and closes the
// client's connection: the request vanished on the way.
func DropConnection() FaultAction {
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		panic(http.ErrAbortHandler)
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// bodyWriter lets onWrite see and replace each piece of the body, knowing
// its offset.
type bodyWriter struct {
	http.ResponseWriter
	off     int64
	onWrite func(off int64, p []byte) []byte
}

func (b *bodyWriter) Write(p []byte) (int, error) {
	q := b.onWrite(b.off, p)
	b.off += int64(len(p))
	if _, err := b.ResponseWriter.Write(q); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (b *bodyWriter) Unwrap() http.ResponseWriter { return b.ResponseWriter }

// headerHook edits the answer's headers just before they are sent.
type headerHook struct {
	http.ResponseWriter
	hook  func(http.Header)
	wrote bool
}

func (h *headerHook) WriteHeader(code int) {
	if !h.wrote {
		h.wrote = true
		h.hook(h.Header())
	}
	h.ResponseWriter.WriteHeader(code)
}

func (h *headerHook) Write(p []byte) (int, error) {
	if !h.wrote {
		h.WriteHeader(http.StatusOK)
	}
	return h.ResponseWriter.Write(p)
}

func (h *headerHook) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// Throttle forwards the request and paces the answer's body to about
// bytesPerSecond, as a per-connection bandwidth cap does: each request
// gets the rate on its own, so several at once get several times it.
// Time lost to a pause (a busy machine) is not made up with a burst: no
// write goes out sooner than its size at the rate after the one before,
// so a client never sees the connection faster than the cap.
func Throttle(bytesPerSecond int64) FaultAction {
	return func(w http.ResponseWriter, r *http.Request, forward http.Handler) {
		next := time.Now()
		forward.ServeHTTP(&bodyWriter{ResponseWriter: w, onWrite: func(off int64, p []byte) []byte {
			if now := time.Now(); next.Before(now) {
				next = now
			}
			next = next.Add(time.Duration(float64(len(p)) / float64(bytesPerSecond) * float64(time.Second)))
			time.Sleep(time.Until(next))
			return p
		}}, r)
	}
}
