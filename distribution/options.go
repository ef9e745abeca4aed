package distribution

import (
	"net/http"

	"github.com/hoist-dev/hoist/content"
)

// Option configures NewRegistry.
type Option func(*options)

type options struct {
	client      *http.Client
	plainHTTP   bool
	maxManifest int64
	maxChunk    int64
	maxResumes  int
}

// Defaults for the options below.
const (
	// DefaultMaxManifestSize is the manifest size cap: 4 MiB.
	DefaultMaxManifestSize = content.DefaultMaxManifestSize
	// DefaultMaxResumes is how many times one blob download or one chunked
	// upload is resumed after a dropped connection.
	DefaultMaxResumes = 5
	// maxListBody caps one page of a tags, catalog or referrers list.
	maxListBody = 16 << 20
)

func defaults() options {
	return options{
		client:      &http.Client{Transport: http.DefaultTransport},
		maxManifest: DefaultMaxManifestSize,
		maxResumes:  DefaultMaxResumes,
	}
}

// WithTransport sends requests through rt, inside an http.Client that
// follows redirects with net/http's default policy (up to 10; credentials
// are the transport's business, not the client's). Use hoist's transport
// and auth stack here, or pass WithHTTPClient(transport.NewClient(rt)) to
// also get its redirect policy (no https→http downgrade). The default is
// http.DefaultTransport, which has no authentication and no retries.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) { o.client = &http.Client{Transport: rt} }
}

// WithHTTPClient sends requests with c, for callers that need their own
// redirect policy. c is used as is and must not be modified afterwards.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) { o.client = c }
}

// WithPlainHTTP speaks http instead of https to the registry. It is for
// tests and for callers that know the host has no TLS; hoist's transport
// falls back from https to http by itself for loopback and insecure hosts.
func WithPlainHTTP() Option {
	return func(o *options) { o.plainHTTP = true }
}

// WithMaxManifestSize caps how many bytes of a manifest (or referrers
// index) are read; a larger one fails with errcode.ErrTooLarge. n <= 0
// restores the default, 4 MiB.
func WithMaxManifestSize(n int64) Option {
	return func(o *options) {
		if n <= 0 {
			n = DefaultMaxManifestSize
		}
		o.maxManifest = n
	}
}

// WithMaxChunkSize caps the body of one upload request, for proxies that
// refuse large bodies: a blob larger than n is pushed in PATCH chunks of n
// bytes (or the registry's OCI-Chunk-Min-Length, when that is larger). The
// default, 0, pushes every blob in one PUT.
func WithMaxChunkSize(n int64) Option {
	return func(o *options) {
		if n < 0 {
			n = 0
		}
		o.maxChunk = n
	}
}

// WithMaxResumes sets how many times one blob download, or one chunked
// upload from a seekable source, is resumed after the connection drops.
// 0 disables resuming; a negative n restores the default.
func WithMaxResumes(n int) Option {
	return func(o *options) {
		if n < 0 {
			n = DefaultMaxResumes
		}
		o.maxResumes = n
	}
}
