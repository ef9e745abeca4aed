package transport

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
)

// ErrPlainHTTP is returned (wrapped) for a plain http request to a host that
// is neither loopback nor configured insecure.
var ErrPlainHTTP = errors.New("plain http is not allowed")

// schemeSelector enforces the plain-http policy and, for hosts where plain
// http is allowed, falls back from https to http when the server does not
// speak TLS (or, for a host without a port, does not listen on 443). The
// fallback is remembered for the life of the Transport.
type schemeSelector struct {
	host      string
	allowHTTP bool
	useHTTP   atomic.Bool
	next      http.RoundTripper
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
	if s.useHTTP.Load() {
		return overHTTP(s.next.RoundTrip(toHTTP(req)))
	}
	rp := newReplayer(req)
	r, _ := rp.next()
	resp, err := s.next.RoundTrip(r)
	if err == nil || req.Context().Err() != nil || !(speaksPlainHTTP(err) || (req.URL.Port() == "" && errors.Is(err, syscall.ECONNREFUSED))) {
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
