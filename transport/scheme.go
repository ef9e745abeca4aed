package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// ErrPlainHTTP is returned (wrapped) for a plain http request to a host that
// is neither loopback nor configured insecure.
var ErrPlainHTTP = errors.New("plain http is not allowed")

// schemeSelector enforces the plain-http policy and, for hosts where plain
// http is allowed, falls back from https to http when the server does not
// speak TLS (or, for a host without a port, does not listen on 443). The
// scheme that worked is remembered for the life of the Transport.
//
// While it is unknown, a request without a body or credentials (the first
// GET or HEAD of a run, normally) is sent both ways at once (race): the
// https answer wins whenever there is one, and the plain one is used only
// where the sequential fallback would have used it, so a plain-http host
// costs no failed TLS round trip before its first answer. A host with a
// certs.d directory (mayRace false) is expected to speak TLS and is not raced.
//
// One request finds the scheme out: requests that come while it is on
// its way wait for its outcome (within their own contexts) and then go
// the way it found, so a run that opens with many requests at once (a
// sync's listings) costs a plain-http host one failed TLS attempt, not one
// per request.
type schemeSelector struct {
	host      string
	allowHTTP bool
	mayRace   bool
	useHTTP   atomic.Bool
	useHTTPS  atomic.Bool // an https request got an answer: no race, no fallback needed
	next      http.RoundTripper

	mu      sync.Mutex
	probing chan struct{} // closed when the request finding the scheme out has its outcome
}

// known reports whether a request has shown which scheme the host speaks.
func (s *schemeSelector) known() bool { return s.useHTTP.Load() || s.useHTTPS.Load() }

// scheme returns the scheme the host has been seen to speak, "" while
// that is not known.
func (s *schemeSelector) scheme() string {
	switch {
	case s.useHTTP.Load():
		return "http"
	case s.useHTTPS.Load():
		return "https"
	}
	return ""
}

// assumeHTTP makes plain http the host's scheme without a request, where
// the policy allows it.
func (s *schemeSelector) assumeHTTP() {
	if s.allowHTTP && !s.useHTTPS.Load() {
		s.useHTTP.Store(true)
	}
}

// lead returns, for a request while the scheme is not known, a func to
// call when its outcome is in: it is the one finding the scheme out. A
// request that comes while another is on that errand waits for it (or
// for ctx) and gets nil, and so does every request once the scheme is
// known.
func (s *schemeSelector) lead(ctx context.Context) (done func()) {
	s.mu.Lock()
	if s.known() {
		s.mu.Unlock()
		return nil
	}
	if ch := s.probing; ch != nil {
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
		}
		return nil
	}
	ch := make(chan struct{})
	s.probing = ch
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.probing = nil
		s.mu.Unlock()
		close(ch)
	}
}

func (s *schemeSelector) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.URL.Scheme {
	case "http":
		if !s.allowHTTP {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, insecureHint(s.host, fmt.Errorf("%s: %w: the host is not on loopback", s.host, ErrPlainHTTP))
		}
		return s.next.RoundTrip(req)
	case "https":
	default:
		return s.next.RoundTrip(req)
	}
	if !s.allowHTTP {
		resp, err := s.next.RoundTrip(req)
		if err != nil && speaksPlainHTTP(err) && req.Context().Err() == nil {
			return nil, insecureHint(s.host, fmt.Errorf("%s: %w, and it is not on loopback: %w", s.host, ErrNoTLS, ErrPlainHTTP))
		}
		return resp, err
	}
	if !s.known() {
		if done := s.lead(req.Context()); done != nil {
			defer done()
		}
	}
	if s.useHTTP.Load() {
		return overHTTP(s.next.RoundTrip(toHTTP(req)))
	}
	if s.mayRace && !s.useHTTPS.Load() && raceable(req) {
		return s.race(req)
	}
	rp := newReplayer(req)
	r, _ := rp.next()
	resp, err := s.next.RoundTrip(r)
	if err == nil || req.Context().Err() != nil || !noTLS(req, err) {
		if err == nil {
			s.useHTTPS.Store(true)
		}
		rp.done()
		return resp, err
	}
	r, rerr := rp.next()
	if rerr != nil {
		return nil, fmt.Errorf("%s does not speak TLS, and the request cannot be re-sent over http: %w", s.host, rerr)
	}
	s.useHTTP.Store(true)
	resp, err = s.next.RoundTrip(toHTTP(r))
	rp.done()
	return overHTTP(resp, err)
}

// noTLS reports whether err, the failure of req over https, says the host
// does not speak TLS there: the case for falling back to plain http.
func noTLS(req *http.Request, err error) bool {
	return speaksPlainHTTP(err) || (req.URL.Port() == "" && errors.Is(err, syscall.ECONNREFUSED))
}

// raceable reports whether req may be sent over https and plain http at
// once: it has no body to spend twice, changes nothing (GET or HEAD), and
// carries no credentials, which a host that does speak TLS must not get
// in clear.
func raceable(req *http.Request) bool {
	return (req.Method == http.MethodGet || req.Method == http.MethodHead) &&
		(req.Body == nil || req.Body == http.NoBody) && req.Header.Get("Authorization") == ""
}

type raced struct {
	resp *http.Response
	err  error
}

// race sends req over https and, at the same time, over plain http. The
// https outcome decides as in the sequential fallback: an answer (or any
// failure but "no TLS here") is returned and the plain attempt is
// cancelled and discarded; "no TLS here" returns the plain attempt's
// outcome, and plain http is used from then on.
func (s *schemeSelector) race(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	pr := req.Clone(ctx)
	pr.URL.Scheme = "http"
	plain := make(chan raced, 1)
	go func() {
		resp, err := s.next.RoundTrip(pr)
		plain <- raced{resp, err}
	}()
	resp, err := s.next.RoundTrip(req)
	if err == nil || req.Context().Err() != nil || !noTLS(req, err) {
		if err == nil {
			s.useHTTPS.Store(true)
		}
		cancel()
		go func() { // the plain attempt ends at once, cancelled
			if p := <-plain; p.resp != nil {
				p.resp.Body.Close()
			}
		}()
		return resp, err
	}
	p := <-plain
	if p.err != nil {
		cancel()
		return overHTTP(nil, p.err)
	}
	s.useHTTP.Store(true)
	p.resp.Body = &cancelOnClose{ReadCloser: p.resp.Body, cancel: cancel}
	return p.resp, nil
}

// cancelOnClose releases the context of a raced request when its answer's
// body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// SentOverHTTPError wraps the failure of a request that the Transport sent
// over plain http although it was asked for https (the fallback for
// loopback and insecure hosts), so that an error message can name the URL
// that was really used.
type SentOverHTTPError struct{ Err error }

func (e *SentOverHTTPError) Error() string { return e.Err.Error() }

// Unwrap returns Err.
func (e *SentOverHTTPError) Unwrap() error { return e.Err }

func overHTTP(resp *http.Response, err error) (*http.Response, error) {
	if err != nil {
		err = &SentOverHTTPError{Err: err}
	}
	return resp, err
}

// insecureHint names the host-policy setting that allows plain http.
func insecureHint(host string, err error) error {
	return &OptionHint{Err: err, Action: "if it really has no TLS, allow plain http", Option: "hosts.Config.Insecure", Value: host}
}

func toHTTP(req *http.Request) *http.Request {
	r := req.Clone(req.Context())
	r.Body = req.Body // Clone shares the body anyway; be explicit.
	r.URL.Scheme = "http"
	return r
}

// speaksPlainHTTP reports whether err says the server answered a TLS
// handshake with plain HTTP.
func speaksPlainHTTP(err error) bool {
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		return true
	}
	return err != nil && strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}
