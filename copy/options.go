package copy

import (
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// DefaultConcurrency is how many blobs move at once unless
// WithConcurrency says otherwise. It was chosen with bench/ (the sweep in
// bench/RESULTS.md): from 3 up, pull and copy times are within noise of
// each other, while memory grows with every extra stream; 4 keeps one
// stream of headroom for registries with more per-request latency than
// loopback.
const DefaultConcurrency = 4

// smallBlob and smallConcurrency: blobs under smallBlob bytes (configs,
// small layers) cost a round trip or two, not bandwidth, so they move up to
// smallConcurrency at once beside the bulk transfers; copying many small
// images (--all-tags) is bound by registry round trips, not by bytes.
const (
	smallBlob        = 1 << 20
	smallConcurrency = 16
)

// Format says which media types the copied manifests carry.
type Format int

const (
	// FormatKeep copies manifests byte for byte (the default).
	FormatKeep Format = iota
	// FormatOCI rewrites Docker media types to their OCI equivalents. The
	// blobs are unchanged; converted manifests get new digests.
	FormatOCI
)

// Option configures New.
type Option func(*options)

type options struct {
	platforms   []ocispec.Platform
	concurrency int
	events      func(Event)
	format      Format
	cache       *BlobCache
	maxManifest int64
	refs        referrerOptions // referrers.go
}

func defaults() options {
	return options{concurrency: DefaultConcurrency, events: func(Event) {}, maxManifest: 4 << 20}
}

// WithPlatforms selects platforms of a multi-platform image. With one
// platform the copy yields that platform's image manifest; with several, an
// index listing only them. A platform the source lacks is an error that
// lists the ones it has. Without this option every platform is copied.
func WithPlatforms(p ...ocispec.Platform) Option {
	return func(o *options) { o.platforms = append([]ocispec.Platform(nil), p...) }
}

// WithConcurrency bounds how many blobs of 1 MiB or more are transferred at
// once (minimum 1); smaller blobs move up to 16 at once beside them.
func WithConcurrency(n int) Option {
	return func(o *options) {
		if n < 1 {
			n = 1
		}
		o.concurrency = n
	}
}

// WithEvents sets the progress callback. It is called from many goroutines
// at once and must be fast and safe for concurrent use.
func WithEvents(f func(Event)) Option {
	return func(o *options) {
		if f != nil {
			o.events = f
		}
	}
}

// WithFormat chooses whether manifests are kept or converted to OCI.
func WithFormat(f Format) Option { return func(o *options) { o.format = f } }

// WithBlobCache sets the blob-location cache that remembers where blobs
// were seen, so later copies mount instead of uploading. Without it nothing
// is remembered across runs.
func WithBlobCache(c *BlobCache) Option { return func(o *options) { o.cache = c } }

// WithMaxManifestSize caps the size of manifests read from the source.
func WithMaxManifestSize(n int64) Option { return func(o *options) { o.maxManifest = n } }

// partConnections is how many extra connections the blobs that are split
// into ranged sections may open in all, beside the one each bulk transfer
// has: together at most 16 bulk connections, so that about 16 connections
// share a per-connection cap (bench/README.md) while memory stays bounded.
func partConnections(concurrency int) int {
	return max(16-concurrency, 4)
}
