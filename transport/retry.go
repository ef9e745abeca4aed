package transport

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RetryPolicy says how often and how patiently requests are retried.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, the first included.
	MaxAttempts int
	// BaseDelay is the first backoff; each retry doubles it, with jitter.
	BaseDelay time.Duration
	// MaxDelay caps the backoff between attempts.
	MaxDelay time.Duration
	// MaxRetryAfter caps how long a server's Retry-After is honoured. A
	// longer Retry-After is not waited out: the response goes back to the
	// caller, whose error then says when to try again.
	MaxRetryAfter time.Duration
}

// DefaultRetryPolicy is 5 attempts, backoff from 250 ms to 8 s, and
// Retry-After honoured up to 60 s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 5, BaseDelay: 250 * time.Millisecond, MaxDelay: 8 * time.Second, MaxRetryAfter: time.Minute}
}

type retryableKey struct{}

// WithRetryable marks requests made with ctx as safe to retry even though
// their method is not idempotent (POST that opens an upload session, for
// instance). Their bodies must still be replayable.
func WithRetryable(ctx context.Context) context.Context {
	return context.WithValue(ctx, retryableKey{}, true)
}

// retrier retries idempotent requests on connection resets, stalls and on
// 408, 429, 500, 502, 503 and 504.
type retrier struct {
	policy RetryPolicy
	clock  Clock
	next   http.RoundTripper
}

func (r *retrier) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if r.policy.MaxAttempts <= 1 || !retryable(req) {
		return r.next.RoundTrip(req)
	}
	rp := newReplayer(req)
	for attempt := 1; ; attempt++ {
		a, err := rp.next()
		if err != nil {
			return nil, err
		}
		resp, err := r.next.RoundTrip(a)
		if attempt >= r.policy.MaxAttempts || ctx.Err() != nil || !rp.canReplay() {
			rp.done()
			return resp, err
		}
		var wait time.Duration
		switch {
		case err != nil:
			if !transient(err) {
				rp.done()
				return nil, err
			}
			wait = r.backoff(attempt)
		case retryStatus(resp.StatusCode):
			wait = r.backoff(attempt)
			if ra, ok := retryAfter(resp.Header.Get("Retry-After"), r.clock.Now()); ok {
				if ra > r.policy.MaxRetryAfter {
					rp.done()
					return resp, nil
				}
				wait = ra
			}
		default:
			rp.done()
			return resp, nil
		}
		if resp != nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if err := r.clock.Sleep(ctx, wait); err != nil {
			rp.abandon()
			return nil, err
		}
	}
}

func (r *retrier) backoff(attempt int) time.Duration {
	d := r.policy.BaseDelay << (attempt - 1)
	if d > r.policy.MaxDelay || d <= 0 {
		d = r.policy.MaxDelay
	}
	// Equal jitter: never less than half, so a burst of clients spreads out
	// without any of them hammering at once.
	return d/2 + rand.N(d/2+1)
}

func retryable(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	v, _ := req.Context().Value(retryableKey{}).(bool)
	return v
}

func retryStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// transient reports whether err is a dropped or stalled connection, which a
// new attempt may well get past. DNS failures, refused connections, TLS
// verification failures and policy errors are not.
func transient(err error) bool {
	var se *StallError
	switch {
	case errors.As(err, &se),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	}
	s := err.Error()
	return strings.Contains(s, "server closed idle connection") || strings.Contains(s, "GOAWAY") ||
		strings.Contains(s, "connection reset")
}

// retryAfter parses a Retry-After value: delay seconds or an HTTP-date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}
