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

// stallGuard cancels an attempt when neither the request body nor the
// response body has moved a byte for the timeout. Waiting for response
// headers counts as no progress, from the last request byte sent.
type stallGuard struct {
	host    string
	timeout time.Duration
	next    http.RoundTripper
}

func (s *stallGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if s.timeout <= 0 {
		return s.next.RoundTrip(req)
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	w := newWatchdog(s.timeout, func() { cancel(&StallError{Host: s.host, After: s.timeout}) })
	r := req.WithContext(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		r.Body = &progressBody{rc: req.Body, w: w}
		if req.GetBody != nil {
			r.GetBody = func() (io.ReadCloser, error) {
				b, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				return &progressBody{rc: b, w: w}, nil
			}
		}
	}
	resp, err := s.next.RoundTrip(r)
	if err != nil {
		w.stop()
		cause := context.Cause(ctx)
		cancel(nil)
		var se *StallError
		if errors.As(cause, &se) {
			return nil, se
		}
		return nil, err
	}
	w.kick()
	resp.Body = &watchedBody{rc: resp.Body, w: w, ctx: ctx, cancel: cancel}
	return resp, nil
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
	rc io.ReadCloser
	w  *watchdog
}

func (p *progressBody) Read(b []byte) (int, error) {
	n, err := p.rc.Read(b)
	if n > 0 {
		p.w.kick()
	}
	return n, err
}

func (p *progressBody) Close() error { return p.rc.Close() }

type watchedBody struct {
	rc     io.ReadCloser
	w      *watchdog
	ctx    context.Context
	cancel context.CancelCauseFunc
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.w.kick()
	}
	if err != nil && err != io.EOF {
		var se *StallError
		if errors.As(context.Cause(b.ctx), &se) {
			return n, se
		}
	}
	return n, err
}

func (b *watchedBody) Close() error {
	b.w.stop()
	err := b.rc.Close()
	b.cancel(nil)
	return err
}
