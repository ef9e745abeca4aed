package transport

import (
	"context"
	"crypto/tls"
	"sync"
)

// CertAttempt is one try of a request with one client certificate.
type CertAttempt struct {
	// Cert is the certificate's file name ("a.cert"), "" when none is offered.
	Cert string
	// Status is the HTTP status received, 0 when the attempt failed.
	Status int
	// Err is the transport error, nil when a response arrived.
	Err error
	// Refused reports whether the attempt counted as a refusal (TLS or
	// connection failure, 403 or 5xx) and hoist moved on.
	Refused bool
}

// Trace collects what happened below the caller for requests whose context
// carries it (see WithTrace): every client-certificate attempt, the scheme
// and the TLS state of the last response. It is safe for concurrent use.
type Trace struct {
	mu       sync.Mutex
	attempts []CertAttempt
	scheme   string
	tls      *tls.ConnectionState
}

type traceKey struct{}

// WithTrace returns a context whose requests record into tr.
func WithTrace(ctx context.Context, tr *Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, tr)
}

func traceFrom(ctx context.Context) *Trace {
	tr, _ := ctx.Value(traceKey{}).(*Trace)
	return tr
}

// Attempts returns the certificate attempts recorded so far, in order.
func (t *Trace) Attempts() []CertAttempt {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]CertAttempt(nil), t.attempts...)
}

// Scheme returns the scheme of the last response, "https" or "http".
func (t *Trace) Scheme() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.scheme
}

// TLS returns the TLS state of the last response over https, or nil.
func (t *Trace) TLS() *tls.ConnectionState {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tls
}

func (t *Trace) add(a CertAttempt) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.attempts = append(t.attempts, a)
	t.mu.Unlock()
}

func (t *Trace) response(scheme string, cs *tls.ConnectionState) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.scheme, t.tls = scheme, cs
	t.mu.Unlock()
}
