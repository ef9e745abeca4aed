package transport

import (
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/net/http/httpproxy"

	"github.com/hoist-dev/hoist/hosts"
	"github.com/hoist-dev/hoist/internal/version"
)

// Defaults for the options below.
const (
	DefaultDialTimeout  = 30 * time.Second
	DefaultStallTimeout = 60 * time.Second
)

// Option configures New.
type Option func(*options)

type options struct {
	hosts        *hosts.Config
	userAgent    string
	headers      http.Header
	retry        RetryPolicy
	clock        Clock
	dialTimeout  time.Duration
	stallTimeout time.Duration
	proxy        func(*http.Request) (*url.URL, error)
	logger       *slog.Logger
	wrapBase     func(host string, rt http.RoundTripper) http.RoundTripper
}

func defaults() options {
	pf := httpproxy.FromEnvironment().ProxyFunc()
	return options{
		userAgent:    version.UserAgent(),
		retry:        DefaultRetryPolicy(),
		clock:        realClock{},
		dialTimeout:  DefaultDialTimeout,
		stallTimeout: DefaultStallTimeout,
		proxy:        func(r *http.Request) (*url.URL, error) { return pf(r.URL) },
	}
}

// WithHosts sets the host policy: certs.d directories and insecure hosts.
// The default is the zero hosts.Config (docker's default directories, no
// insecure hosts).
func WithHosts(c *hosts.Config) Option { return func(o *options) { o.hosts = c } }

// WithUserAgent replaces the default "hoist/VERSION (GOOS/GOARCH)".
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// WithHeaders adds headers to every request that does not already set them.
func WithHeaders(h http.Header) Option { return func(o *options) { o.headers = h.Clone() } }

// WithRetryPolicy replaces DefaultRetryPolicy. MaxAttempts 1 disables retries.
func WithRetryPolicy(p RetryPolicy) Option { return func(o *options) { o.retry = p } }

// WithClock replaces the wall clock used for backoff and Retry-After, so
// tests can observe the waits instead of sleeping.
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithDialTimeout bounds connecting to a host, TLS handshake included.
func WithDialTimeout(d time.Duration) Option { return func(o *options) { o.dialTimeout = d } }

// WithStallTimeout bounds how long an attempt may go without a byte moving
// in either direction (request body sent, response read); 0 disables it.
// There is deliberately no overall deadline: large transfers take as long
// as they take while they progress.
func WithStallTimeout(d time.Duration) Option { return func(o *options) { o.stallTimeout = d } }

// WithProxy replaces the proxy function. The default reads HTTP_PROXY,
// HTTPS_PROXY and NO_PROXY (and their lower-case forms) when New is called.
func WithProxy(f func(*http.Request) (*url.URL, error)) Option {
	return func(o *options) { o.proxy = f }
}

// WithLogger logs one debug line per attempt (method, URL, status, time,
// client certificate) and the request headers with credentials redacted.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithBaseWrapper wraps each host's bottom net/http transport, below every
// layer of this package. It exists for fault injection in tests.
func WithBaseWrapper(f func(host string, rt http.RoundTripper) http.RoundTripper) Option {
	return func(o *options) { o.wrapBase = f }
}
