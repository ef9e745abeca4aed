package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// StallError reports that no byte moved on a request for the stall timeout.
// It is a net.Error with Timeout() true. A GET of a blob may resume after
// it with a Range request; anything else fails.
type StallError struct {
	// Host is the registry host of the request.
	Host string
	// After is the stall timeout that expired.
	After time.Duration
}

func (e *StallError) Error() string {
	return fmt.Sprintf("%s: no data moved for %s; the connection stalled", e.Host, e.After)
}

// Timeout reports true, as for any net.Error timeout.
func (e *StallError) Timeout() bool { return true }

// Temporary reports true: a new connection may well work.
func (e *StallError) Temporary() bool { return true }

// HeaderTimeoutError reports that a request was sent whole and no
// response headers came back within the response-header timeout
// (WithResponseHeaderTimeout). It is a net.Error with Timeout() true.
type HeaderTimeoutError struct {
	// Host is the registry host of the request.
	Host string
	// After is the timeout that expired.
	After time.Duration
}

func (e *HeaderTimeoutError) Error() string {
	return fmt.Sprintf("%s: no answer within %s of the request", e.Host, e.After)
}

// Timeout reports true, as for any net.Error timeout.
func (e *HeaderTimeoutError) Timeout() bool { return true }

// Temporary reports true: a new connection may well work.
func (e *HeaderTimeoutError) Temporary() bool { return true }

// SlowError reports a response body that came in slower than the minimum
// throughput (WithMinThroughput) for a whole window of reading. It is a
// net.Error with Timeout() true, so a blob GET resumes after it, a bounded
// number of times.
type SlowError struct {
	// Host is the registry host of the request.
	Host string
	// Rate is the throughput measured over the window, in bytes per second.
	Rate float64
	// Min is the minimum throughput in bytes per second, Window the time
	// over which it is measured.
	Min    int64
	Window time.Duration
}

func (e *SlowError) Error() string {
	return fmt.Sprintf("%s: sent %s/s over %s, below the minimum of %s/s",
		e.Host, byteCount(e.Rate), e.Window, byteCount(float64(e.Min)))
}

// Timeout reports true, as for any net.Error timeout.
func (e *SlowError) Timeout() bool { return true }

// Temporary reports true: a new connection may well be faster.
func (e *SlowError) Temporary() bool { return true }

func byteCount(n float64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", n/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", n/(1<<10))
	}
	return fmt.Sprintf("%.0f B", n)
}

type slowAnswerKey struct{}

// WithSlowAnswer marks requests made with ctx as ones a registry may take
// long to answer once it has their whole body (the PUT that completes an
// upload, which some storage backends answer only after moving the blob):
// their wait for response headers is bounded by the stall timeout rather
// than the shorter response-header timeout.
func WithSlowAnswer(ctx context.Context) context.Context {
	return context.WithValue(ctx, slowAnswerKey{}, true)
}

// stallGuard cancels an attempt when neither the request body nor the
// response body has moved a byte for the stall timeout, when no response
// headers came within the header timeout of the last request byte, and
// when the response body is read slower than the minimum throughput for
// a window of reading.
type stallGuard struct {
	host          string
	timeout       time.Duration
	headerTimeout time.Duration
	minRate       int64
	window        time.Duration
	next          http.RoundTripper
}

func (s *stallGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	hdr := s.headerTimeout
	if slow, _ := req.Context().Value(slowAnswerKey{}).(bool); slow {
		hdr = 0
	}
	if b := BudgetFrom(req.Context()); b != nil && hdr > 0 {
		// The operation's budget is nearly spent: wait only what is left.
		hdr = min(hdr, max(b.Left(), time.Second))
	}
	if s.timeout <= 0 && hdr <= 0 && s.minRate <= 0 {
		return s.next.RoundTrip(req)
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	dogs := make([]*watchdog, 0, 2)
	if s.timeout > 0 {
		dogs = append(dogs, newWatchdog(s.timeout, func() { cancel(&StallError{Host: s.host, After: s.timeout}) }))
	}
	var hdog *watchdog
	if hdr > 0 {
		hdog = newWatchdog(hdr, func() {
			cancel(&OptionHint{Err: &HeaderTimeoutError{Host: s.host, After: hdr}, Action: "wait longer", Option: "transport.WithResponseHeaderTimeout"})
		})
		dogs = append(dogs, hdog)
	}
	kick := func() {
		for _, d := range dogs {
			d.kick()
		}
	}
	r := req.WithContext(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		r.Body = &progressBody{rc: req.Body, kick: kick}
		if req.GetBody != nil {
			r.GetBody = func() (io.ReadCloser, error) {
				b, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				return &progressBody{rc: b, kick: kick}, nil
			}
		}
	}
	resp, err := s.next.RoundTrip(r)
	if hdog != nil {
		hdog.stop()
	}
	stall := dogs
	if hdog != nil {
		stall = dogs[:len(dogs)-1]
	}
	if err != nil {
		for _, d := range stall {
			d.stop()
		}
		cause := context.Cause(ctx)
		cancel(nil)
		if ours(cause) {
			return nil, cause
		}
		return nil, err
	}
	var m *meter
	if s.minRate > 0 && s.window > 0 {
		m = newMeter(s.minRate, s.window, func(rate float64) {
			cancel(&OptionHint{Err: &SlowError{Host: s.host, Rate: rate, Min: s.minRate, Window: s.window}, Action: "lower the minimum", Option: "transport.WithMinThroughput"})
		})
	}
	for _, d := range stall {
		d.kick()
	}
	resp.Body = &watchedBody{rc: resp.Body, dogs: stall, meter: m, ctx: ctx, cancel: cancel}
	return resp, nil
}

// ours reports whether err is one of the timeouts stallGuard raises.
func ours(err error) bool {
	var se *StallError
	var he *HeaderTimeoutError
	var sl *SlowError
	return errors.As(err, &se) || errors.As(err, &he) || errors.As(err, &sl)
}

// watchdog fires once when kick has not been called for timeout. It keeps
// one timer and re-arms it lazily, so kicking on every read is cheap.
type watchdog struct {
	timeout time.Duration
	start   time.Time
	last    atomic.Int64 // nanoseconds since start of the last kick
	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
	fire    func()
}

func newWatchdog(timeout time.Duration, fire func()) *watchdog {
	w := &watchdog{timeout: timeout, start: time.Now(), fire: fire}
	w.timer = time.AfterFunc(timeout, w.check)
	return w
}

func (w *watchdog) kick() { w.last.Store(int64(time.Since(w.start))) }

func (w *watchdog) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	idle := time.Since(w.start) - time.Duration(w.last.Load())
	if idle < w.timeout {
		w.timer.Reset(w.timeout - idle)
		return
	}
	w.stopped = true
	w.fire()
}

func (w *watchdog) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	w.timer.Stop()
}

type progressBody struct {
	rc   io.ReadCloser
	kick func()
}

func (p *progressBody) Read(b []byte) (int, error) {
	n, err := p.rc.Read(b)
	if n > 0 {
		p.kick()
	}
	return n, err
}

func (p *progressBody) Close() error { return p.rc.Close() }

type watchedBody struct {
	rc     io.ReadCloser
	dogs   []*watchdog
	meter  *meter
	ctx    context.Context
	cancel context.CancelCauseFunc
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.meter.begin()
	n, err := b.rc.Read(p)
	b.meter.end(n)
	if n > 0 {
		for _, d := range b.dogs {
			d.kick()
		}
	}
	if err != nil && err != io.EOF {
		if cause := context.Cause(b.ctx); ours(cause) {
			return n, cause
		}
	}
	return n, err
}

func (b *watchedBody) Close() error {
	for _, d := range b.dogs {
		d.stop()
	}
	b.meter.stop()
	err := b.rc.Close()
	b.cancel(nil)
	return err
}
