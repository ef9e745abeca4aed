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
	DefaultDialTimeout           = 30 * time.Second
	DefaultTLSHandshakeTimeout   = 15 * time.Second
	DefaultResponseHeaderTimeout = 20 * time.Second
	DefaultStallTimeout          = 60 * time.Second
	// DefaultMinThroughput and DefaultThroughputWindow: a response body
	// read slower than 1 KiB/s for 20 s of reading is given up on.
	DefaultMinThroughput    = 1 << 10
	DefaultThroughputWindow = 20 * time.Second
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
	tlsTimeout   time.Duration
	hdrTimeout   time.Duration
	stallTimeout time.Duration
	minRate      int64
	rateWindow   time.Duration
	notify       func(Wait)
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
		tlsTimeout:   DefaultTLSHandshakeTimeout,
		hdrTimeout:   DefaultResponseHeaderTimeout,
		stallTimeout: DefaultStallTimeout,
		minRate:      DefaultMinThroughput,
		rateWindow:   DefaultThroughputWindow,
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

// WithDialTimeout bounds connecting to a host (the TCP connect).
func WithDialTimeout(d time.Duration) Option { return func(o *options) { o.dialTimeout = d } }

// WithTLSHandshakeTimeout bounds the TLS handshake once connected
// (default DefaultTLSHandshakeTimeout).
func WithTLSHandshakeTimeout(d time.Duration) Option { return func(o *options) { o.tlsTimeout = d } }

// WithResponseHeaderTimeout bounds the wait for response headers once the
// request is sent whole (default DefaultResponseHeaderTimeout); 0 leaves
// that wait to the stall timeout. A request made with WithSlowAnswer waits
// up to the stall timeout, and one whose context's WaitBudget is nearly
// spent waits only what is left of it. A timeout is retried, but never
// more than RetryPolicy.MaxTimeouts times in a row.
func WithResponseHeaderTimeout(d time.Duration) Option { return func(o *options) { o.hdrTimeout = d } }

// WithMinThroughput sets the minimum-throughput rule for response bodies,
// like curl's --speed-limit and --speed-time: a body read at fewer than
// bytesPerSecond over window of reading fails with a *SlowError (a blob GET
// then resumes, a bounded number of times). Only time the caller spends
// inside Read counts. bytesPerSecond 0 disables the rule. The default is
// DefaultMinThroughput over DefaultThroughputWindow.
func WithMinThroughput(bytesPerSecond int64, window time.Duration) Option {
	return func(o *options) { o.minRate, o.rateWindow = bytesPerSecond, window }
}

// WithWaitNotice calls f before every wait between two attempts of a
// request (Retry-After, backoff), so a program can show it: the hoist
// command prints Wait.String on stderr. f must be safe for concurrent use.
func WithWaitNotice(f func(Wait)) Option { return func(o *options) { o.notify = f } }

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
