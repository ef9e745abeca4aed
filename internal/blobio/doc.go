// Package blobio is what every store that streams blobs through files
// shares: a reader that stops when its context ends, and a copy with
// large pooled buffers. Both pass a source's own verification
// (content.Verifying) through, so that a blob a verifying store hands
// over is hashed once, not twice.
package blobio
