package transport

import (
	"errors"
	"io"
	"net/http"
	"sync"
)

// ErrBodyNotReplayable is returned (wrapped) when a request must be re-sent
// but its body was already partly consumed and the request has no GetBody.
// Re-sending it would send a truncated body; hoist refuses instead.
var ErrBodyNotReplayable = errors.New("request body was already sent and cannot be replayed")

// replayer hands out the request body for successive attempts of one
// request. With GetBody, every attempt gets a fresh body. Without it, the
// original body is shared through guards: an attempt whose guard read no
// byte left the stream intact, so the next attempt may use it; once a byte
// was read, no further attempt is possible.
type replayer struct {
	req  *http.Request
	used bool
	cur  *guard
}

func newReplayer(req *http.Request) *replayer { return &replayer{req: req} }

func (r *replayer) hasBody() bool { return r.req.Body != nil && r.req.Body != http.NoBody }

// next returns a request for the next attempt.
func (r *replayer) next() (*http.Request, error) {
	if !r.hasBody() {
		return r.req, nil
	}
	first := !r.used
	r.used = true
	if r.req.GetBody != nil {
		if first {
			return r.req, nil
		}
		b, err := r.req.GetBody()
		if err != nil {
			return nil, err
		}
		out := r.req.Clone(r.req.Context())
		out.Body = b
		return out, nil
	}
	if r.cur != nil && !r.cur.detach() {
		return nil, ErrBodyNotReplayable
	}
	r.cur = &guard{rc: r.req.Body}
	out := r.req.Clone(r.req.Context())
	out.Body = r.cur
	return out, nil
}

// canReplay reports whether another attempt can get an intact body.
func (r *replayer) canReplay() bool {
	if !r.hasBody() || r.req.GetBody != nil || r.cur == nil {
		return true
	}
	r.cur.mu.Lock()
	defer r.cur.mu.Unlock()
	return r.cur.n == 0
}

// done is called with the attempt whose result goes back to the caller: from
// now on its body is the caller's stream again, closed when the transport
// closes it (or now, if it already did).
func (r *replayer) done() {
	if r.cur != nil {
		r.cur.release()
	}
}

// abandon closes the original body when no attempt will use it.
func (r *replayer) abandon() {
	if r.hasBody() && r.req.GetBody == nil {
		r.req.Body.Close()
	}
}

// guard shares a body between attempts without letting an abandoned attempt
// close it or read it after the fact.
type guard struct {
	mu       sync.Mutex
	rc       io.ReadCloser
	n        int64
	closed   bool // the attempt's transport closed its view
	detached bool // a later attempt took over; reads now fail
	owned    bool // this attempt is final: Close closes rc
}

func (g *guard) Read(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.detached || g.closed {
		return 0, ErrBodyNotReplayable
	}
	n, err := g.rc.Read(p)
	g.n += int64(n)
	return n, err
}

func (g *guard) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.owned && !g.closed {
		g.closed = true
		return g.rc.Close()
	}
	g.closed = true
	return nil
}

// detach ends this attempt's use of the body and reports whether the
// stream is untouched.
func (g *guard) detach() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.detached = true
	return g.n == 0
}

func (g *guard) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.owned = true
	if g.closed {
		g.rc.Close()
	}
}
