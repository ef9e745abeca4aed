package transport

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hoist-dev/hoist/errcode"
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
	// caller as a *WaitBudgetError wrapping the registry's answer.
	MaxRetryAfter time.Duration
	// MaxWait bounds the time one request spends between its attempts
	// (backoff, Retry-After) and in attempts that timed out, when its
	// context carries no WaitBudget (which then bounds every request of
	// the operation together). 0 means DefaultMaxWait.
	MaxWait time.Duration
	// MaxTimeouts is how many attempts in a row may end in a timeout
	// (stall, minimum throughput, response headers, TLS handshake) before
	// the request fails: a host that timed out that often is not going to
	// answer the next time either. 0 means 2.
	MaxTimeouts int
}

// DefaultRetryPolicy is 5 attempts, backoff from 250 ms to 8 s,
// Retry-After honoured up to 60 s, at most 60 s of waiting per request in
// all, and at most 2 timeouts in a row.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 5, BaseDelay: 250 * time.Millisecond, MaxDelay: 8 * time.Second,
		MaxRetryAfter: time.Minute, MaxWait: DefaultMaxWait, MaxTimeouts: 2}
}

type retryableKey struct{}

// WithRetryable marks requests made with ctx as safe to retry even though
// their method is not idempotent (POST that opens an upload session, for
// instance). Their bodies must still be replayable.
func WithRetryable(ctx context.Context) context.Context {
	return context.WithValue(ctx, retryableKey{}, true)
}

// retrier retries idempotent requests on connection resets, stalls and on
// 408, 429, 500, 502, 503 and 504, within the wait budget.
type retrier struct {
	policy RetryPolicy
	clock  Clock
	notify func(Wait)
	next   http.RoundTripper
}

func (r *retrier) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if r.policy.MaxAttempts <= 1 || !retryable(req) {
		return r.next.RoundTrip(req)
	}
	budget := BudgetFrom(ctx)
	if budget == nil {
		budget = NewWaitBudget(r.policy.MaxWait)
	}
	maxTimeouts := r.policy.MaxTimeouts
	if maxTimeouts <= 0 {
		maxTimeouts = 2
	}
	rp := newReplayer(req)
	timeouts := 0
	for attempt := 1; ; attempt++ {
		a, err := rp.next()
		if err != nil {
			return nil, err
		}
		began := r.clock.Now()
		resp, err := r.next.RoundTrip(a)
		if attempt >= r.policy.MaxAttempts || ctx.Err() != nil || !rp.canReplay() {
			rp.done()
			return resp, err
		}
		w := Wait{Host: req.URL.Host}
		var cause error
		switch {
		case err != nil:
			if !transient(err) {
				rp.done()
				return nil, err
			}
			if isTimeout(err) {
				budget.charge(r.clock.Now().Sub(began))
				if timeouts++; timeouts >= maxTimeouts {
					rp.done()
					return nil, repeated{err}
				}
			} else {
				timeouts = 0
			}
			w.For, w.Reason, cause = r.backoff(attempt), reason(err), err
		case retryStatus(resp.StatusCode):
			timeouts = 0
			w.For, w.Reason = r.backoff(attempt), resp.Status
			if ra, ok := retryAfter(resp.Header.Get("Retry-After"), r.clock.Now()); ok {
				w.For, w.Asked = ra, true
			}
			if w.Asked && w.For > r.policy.MaxRetryAfter || budget.Spent()+w.For > budget.Max() {
				rp.done()
				return nil, r.gaveUp(budget, w, errcode.FromResponse(resp))
			}
			Drain(resp)
		default:
			rp.done()
			return resp, nil
		}
		if budget.Spent()+w.For > budget.Max() {
			rp.done()
			return nil, r.gaveUp(budget, w, cause)
		}
		if r.notify != nil {
			r.notify(w)
		}
		if err := budget.Sleep(ctx, r.clock, w.For, w.Host, cause); err != nil {
			rp.abandon()
			return nil, err
		}
	}
}

func (r *retrier) gaveUp(b *WaitBudget, w Wait, cause error) error {
	return hinted(r.budgetError(b, w, cause))
}

func (r *retrier) budgetError(b *WaitBudget, w Wait, cause error) *WaitBudgetError {
	e := &WaitBudgetError{Host: w.Host, Waited: b.Spent(), Max: b.Max(), Err: cause}
	if w.Asked {
		e.Asked = w.For
		if w.For > r.policy.MaxRetryAfter {
			e.Max = r.policy.MaxRetryAfter
		}
	}
	return e
}

// reason is a short form of a failed attempt's error for a Wait.
func reason(err error) string {
	var te interface{ Timeout() bool }
	switch {
	case errors.As(err, &te) && te.Timeout():
		return "timed out"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection closed early"
	}
	return "connection reset"
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
	switch {
	case isTimeout(err),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	}
	s := err.Error()
	return strings.Contains(s, "server closed idle connection") || strings.Contains(s, "GOAWAY") ||
		strings.Contains(s, "connection reset")
}

// IsTimeout reports whether err is a timeout: a stall, too slow a body,
// no response headers in time, a TLS handshake that did not finish.
func IsTimeout(err error) bool { return isTimeout(err) }

// ErrRepeatedTimeouts is matched (errors.Is) by the error of a request
// that timed out RetryPolicy.MaxTimeouts times in a row, and of a
// ResumingBody that gave up after timeouts in a row: the host has had its
// second chance, and a caller should not try the same again from the
// start. A single timeout of a request that could not be replayed (an
// upload's body) does not match it.
var ErrRepeatedTimeouts = errors.New("timed out repeatedly")

// repeated marks err as the last of timeouts in a row, keeping its text.
type repeated struct{ err error }

func (r repeated) Error() string        { return r.err.Error() }
func (r repeated) Unwrap() error        { return r.err }
func (r repeated) Is(target error) bool { return target == ErrRepeatedTimeouts }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
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
