package legacy

import (
	"net/http"

	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/transport"
)

// Option configures NewClient, NewVerifier and ToOCI. Each uses the options
// that concern it and ignores the others.
type Option func(*options)

type options struct {
	rt          http.RoundTripper
	keychain    auth.Keychain
	maxResumes  int
	concurrency int
}

// Defaults for the options below.
const (
	// DefaultMaxResumes is how many times one layer download is resumed
	// with a Range request after the connection breaks, as the original
	// client did.
	DefaultMaxResumes = 5
	// DefaultConcurrency is how many v1 layers ToOCI converts at once.
	DefaultConcurrency = 3
)

// Caps on bodies read into memory. v1 answers are untrusted JSON.
const (
	maxImageJSON = 8 << 20  // one image's JSON
	maxListJSON  = 16 << 20 // image lists, tags, ancestry, search pages
	maxSmallBody = 64 << 10 // login answers, error bodies checked by hand
)

func defaults() options {
	return options{
		maxResumes:  DefaultMaxResumes,
		concurrency: DefaultConcurrency,
	}
}

func buildOptions(opts []Option) options {
	o := defaults()
	for _, f := range opts {
		f(&o)
	}
	if o.rt == nil {
		o.rt = transport.New()
	}
	return o
}

// WithTransport sends every request through rt. Pass hoist's transport
// (transport.New with the CLI's hosts.Config) so that certs.d TLS and
// client certificates, retries, stall timeouts and the plain-http policy
// (https first, http only for loopback and insecure hosts) apply. The
// client puts hoist's redirect policy (transport.CheckRedirect) and, per
// Session, a cookie jar on top. rt must not add credentials of its own:
// v1 authentication (Basic to the index, tokens to registries) is done
// here. The default is transport.New() with its defaults.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) { o.rt = rt }
}

// WithKeychain sets where credentials come from: the index's host is
// looked up for index calls and login-protected reads, and a standalone
// registry's host for its registry calls. nil, the default, is anonymous.
// Use auth.Static for a credential given on the command line.
func WithKeychain(kc auth.Keychain) Option {
	return func(o *options) { o.keychain = kc }
}

// WithMaxResumes sets how many times one layer download is resumed after
// the connection breaks (a reset, an early EOF, a *transport.StallError).
// 0 disables resuming; a negative n restores DefaultMaxResumes.
func WithMaxResumes(n int) Option {
	return func(o *options) {
		if n < 0 {
			n = DefaultMaxResumes
		}
		o.maxResumes = n
	}
}

// WithConcurrency sets how many layers ToOCI downloads and converts at
// once; the BlobSink must then be safe for concurrent use. n < 1 restores
// DefaultConcurrency.
func WithConcurrency(n int) Option {
	return func(o *options) {
		if n < 1 {
			n = DefaultConcurrency
		}
		o.concurrency = n
	}
}
