package blobio

import (
	"context"
	"io"
	"sync"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
)

// ContextReader returns a reader of r that fails with ctx's error once ctx
// has ended, checked before every Read: for sources that do not watch a
// context themselves (local files). When r is content.Verifying, so is
// the result, against the same descriptor.
func ContextReader(ctx context.Context, r io.Reader) io.Reader {
	return ctxReader{ctx, r}
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// VerifiedAgainst forwards the source's own verification (see
// content.Verifying).
func (c ctxReader) VerifiedAgainst() (ocispec.Descriptor, bool) {
	if v, ok := c.r.(content.Verifying); ok {
		return v.VerifiedAgainst()
	}
	return ocispec.Descriptor{}, false
}

// DeferVerification forwards the source's (content.Deferring), the
// deferred bytes read under the same context.
func (c ctxReader) DeferVerification() (content.Deferred, bool) {
	d, ok := c.r.(content.Deferring)
	if !ok {
		return content.Deferred{}, false
	}
	dv, ok := d.DeferVerification()
	if ok {
		dv.R = ctxReader{c.ctx, dv.R}
	}
	return dv, ok
}

// BufferSize is the size of Copy's buffers: twice io.Copy's 32 KiB, so
// big blobs take fewer read and write calls, and small enough that the
// client's concurrent transfers (four streams, each reading back
// sections to hash them) keep their peak memory near io.Copy's.
const BufferSize = 64 << 10

// LargeBufferSize is the size of CopyLarge's buffers.
const LargeBufferSize = 256 << 10

var (
	buffers      = sync.Pool{New: func() any { b := make([]byte, BufferSize); return &b }}
	largeBuffers = sync.Pool{New: func() any { b := make([]byte, LargeBufferSize); return &b }}
)

// Copy copies src to w until EOF with a pooled buffer, as io.CopyBuffer
// does, but never through w's ReadFrom or src's WriteTo (which on a file
// would fall back to 32 KiB chunks, and on an ingest would hide the
// buffer size).
func Copy(w io.Writer, src io.Reader) (int64, error) { return copyPooled(&buffers, w, src) }

// CopyLarge is Copy with LargeBufferSize buffers: for hoist serve's
// upload bodies, which were measured with them.
func CopyLarge(w io.Writer, src io.Reader) (int64, error) {
	return copyPooled(&largeBuffers, w, src)
}

func copyPooled(pool *sync.Pool, w io.Writer, src io.Reader) (int64, error) {
	bp := pool.Get().(*[]byte)
	defer pool.Put(bp)
	return io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{src}, *bp)
}

// Counter counts the bytes read through it: N after the reads so far.
type Counter struct {
	R io.Reader
	N int64
}

// Read reads from the wrapped reader and counts what it returned.
func (c *Counter) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N += int64(n)
	return n, err
}
