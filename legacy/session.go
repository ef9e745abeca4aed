package legacy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/transport"
)

// Session talks to the registries of one repository with what the index
// gave for it (RepositoryData): its tokens and endpoints.
//
//   - Every request carries "Authorization: Token T1,T2" (the tokens joined
//     with commas), unless it already has an Authorization header. To a
//     standalone registry spoken to over https, the keychain's credentials
//     for its host go instead, as Basic on every request.
//   - Cookies the registries set (a session) are kept in a jar of the
//     Session's own.
//   - Reads try the endpoints in order and move on when one fails; the
//     last endpoint that answered is tried first next time. Writes name
//     the endpoint they go to.
//
// A Session is safe for concurrent use.
type Session struct {
	c         *Client
	tokens    []string
	endpoints []*url.URL
	basic     auth.Credential // for the standalone registry's own host
	hc        *http.Client
	preferred atomic.Int32
}

// NewSession opens a Session with rd's tokens and endpoints. It pings the
// index first (once per Client) to learn whether the registry is
// standalone.
func (c *Client) NewSession(ctx context.Context, rd *RepositoryData) (*Session, error) {
	if rd == nil || len(rd.Endpoints) == 0 {
		return nil, errNoEndpoints
	}
	ping, err := c.Ping(ctx)
	if err != nil {
		return nil, err
	}
	s := &Session{c: c, tokens: append([]string(nil), rd.Tokens...)}
	for _, ep := range rd.Endpoints {
		u := *ep
		s.endpoints = append(s.endpoints, &u)
	}
	if ping.Standalone && ping.Secure {
		if s.basic, err = c.credential(ctx, c.index.Host); err != nil {
			return nil, err
		}
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	s.hc = transport.NewClient(c.opts.rt)
	s.hc.Jar = jar
	return s, nil
}

// Endpoints returns the registry endpoints, in the order the index gave.
// The caller may modify the copies it gets.
func (s *Session) Endpoints() []*url.URL {
	out := make([]*url.URL, len(s.endpoints))
	for i, ep := range s.endpoints {
		u := *ep
		out[i] = &u
	}
	return out
}

// do sends one request to path under the endpoint ep with the session's
// credentials and cookies. See send for body and size.
func (s *Session) do(ctx context.Context, ep *url.URL, method, path string, hdr http.Header, body io.Reader, size int64) (*http.Response, error) {
	h := http.Header{}
	for k, vs := range hdr {
		h[k] = vs
	}
	if h.Get("Authorization") == "" {
		switch {
		case !s.basic.IsZero() && transport.SameOrigin(ep, s.c.index):
			h.Set("Authorization", basicAuth(s.basic))
		case len(s.tokens) > 0:
			h.Set("Authorization", "Token "+strings.Join(s.tokens, ","))
		}
	}
	return transport.Send(ctx, s.hc, method, resolve(ep, path), h, body, size)
}

// stopError ends an endpoint loop at once: the answer is definitive (a
// repository the index lists but the registry does not know).
type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }
func (e *stopError) Unwrap() error { return e.err }

// try calls fn with each endpoint in turn, starting with the last one that
// worked, until one succeeds. An error wrapped in *stopError, or the end
// of ctx, stops the loop. When every endpoint fails, the error names each
// one's failure.
func (s *Session) try(ctx context.Context, fn func(ep *url.URL) error) error {
	n := len(s.endpoints)
	start := int(s.preferred.Load())
	var errs []error
	for i := range n {
		idx := (start + i) % n
		err := fn(s.endpoints[idx])
		if err == nil {
			s.preferred.Store(int32(idx))
			return nil
		}
		var stop *stopError
		if errors.As(err, &stop) {
			return stop.err
		}
		if ctx.Err() != nil || n == 1 {
			return err
		}
		errs = append(errs, fmt.Errorf("registry %s: %w", s.endpoints[idx].Host, err))
	}
	return fmt.Errorf("every registry endpoint failed: %w", errors.Join(errs...))
}
