package legacy

import (
	"archive/tar"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync/atomic"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// compression is how a v1 layer's tar is compressed, told from its first
// bytes.
type compression int

const (
	compNone compression = iota
	compGzip
	compBzip2
	compXz
	compZstd
)

func (c compression) String() string {
	return [...]string{"uncompressed", "gzip", "bzip2", "xz", "zstd"}[c]
}

func detectCompression(b []byte) compression {
	switch {
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		return compGzip
	case bytes.HasPrefix(b, []byte("BZh")):
		return compBzip2
	case bytes.HasPrefix(b, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return compXz
	case bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return compZstd
	}
	return compNone
}

// emptyProbe is how much of a layer is read ahead to decide whether it is
// empty. A tar with no entries is a few zero blocks (1 KiB to 10 KiB), a
// few dozen bytes gzipped; a layer that does not end within the probe is
// taken as not empty.
const emptyProbe = 64 << 10

// convertedLayer is a v1 layer after conversion.
type convertedLayer struct {
	empty  bool               // a tar with no entries: no OCI layer
	desc   ocispec.Descriptor // the blob in the sink
	diffID digest.Digest      // sha256 of the uncompressed tar
}

// convertLayer streams a v1 layer into sink as an OCI layer
// (tar+gzip): a gzipped layer is kept byte for byte and gunzipped on the
// side for its diff_id; an uncompressed (or bzip2) one is gzipped on the
// way, its diff_id taken from the tar bytes. With mayBeEmpty, a layer
// whose tar has no entries is empty and not stored. what names the layer
// in errors.
func convertLayer(ctx context.Context, r io.Reader, sink BlobSink, mayBeEmpty bool, what string) (convertedLayer, error) {
	head := make([]byte, emptyProbe)
	n, err := io.ReadFull(r, head)
	complete := err == io.EOF || err == io.ErrUnexpectedEOF
	if err != nil && !complete {
		return convertedLayer{}, fmt.Errorf("%s: %w", what, err)
	}
	head = head[:n]
	comp := detectCompression(head)
	if comp == compXz || comp == compZstd {
		return convertedLayer{}, fmt.Errorf("%s is %s-compressed; hoist converts gzip, bzip2 and uncompressed v1 layers: %w", what, comp, ErrUnsupportedLayer)
	}
	if mayBeEmpty && complete && isEmptyTar(head, comp) {
		return convertedLayer{empty: true}, nil
	}
	src := &eofReader{r: io.MultiReader(bytes.NewReader(head), r)}
	var out convertedLayer
	if comp == compGzip {
		out, err = putGzipped(ctx, src, sink)
	} else {
		var raw io.Reader = src
		if comp == compBzip2 {
			// bzip2 stops at its end-of-stream mark; read on to EOF so
			// the whole layer is accounted for.
			raw = io.MultiReader(bzip2.NewReader(src), drainReader{src})
		}
		out, err = putCompressing(ctx, raw, sink)
	}
	if err != nil {
		return convertedLayer{}, fmt.Errorf("%s: %w", what, err)
	}
	if !src.eof {
		return convertedLayer{}, fmt.Errorf("%s: the blob sink returned before reading the whole layer", what)
	}
	return out, nil
}

// isEmptyTar reports whether b, the whole layer, is a tar archive with no
// entries (including no bytes at all).
func isEmptyTar(b []byte, comp compression) bool {
	var r io.Reader = bytes.NewReader(b)
	switch comp {
	case compGzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return false
		}
		r = zr
	case compBzip2:
		r = bzip2.NewReader(r)
	}
	_, err := tar.NewReader(r).Next()
	return err == io.EOF
}

// Bounds of gunzipping a v1 layer for its diff_id: past MaxLayerExpansionFloor
// bytes, a layer may not decompress to more than MaxLayerExpansion times the
// compressed bytes read so far. Real layers stay far below (a few times,
// a few hundred for sparse files); a gzip bomb is caught within a second
// or so of CPU instead of hashing gigabytes of zeros.
const (
	MaxLayerExpansion      = 256
	MaxLayerExpansionFloor = 1 << 30
)

// ErrLayerBomb is wrapped by the error for a layer that decompresses past
// the bound above.
var ErrLayerBomb = errors.New("the layer decompresses to far more than it holds (a gzip bomb?)")

// expansionGuard fails the decompressed stream once it outgrows the
// compressed bytes counted in *in by the bound above.
type expansionGuard struct {
	r   io.Reader
	in  *atomic.Int64
	out int64
}

func (g *expansionGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	g.out += int64(n)
	if g.out > MaxLayerExpansionFloor && g.out > MaxLayerExpansion*g.in.Load() {
		return n, fmt.Errorf("%w: %d bytes decompressed from %d, more than %d times", ErrLayerBomb, g.out, g.in.Load(), MaxLayerExpansion)
	}
	return n, err
}

// countingReader counts what is read through it into n.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// putGzipped stores an already gzipped layer as it is, gunzipping a copy
// of the bytes in a goroutine for the diff_id, within the expansion bound.
func putGzipped(ctx context.Context, src io.Reader, sink BlobSink) (convertedLayer, error) {
	pr, pw := io.Pipe()
	type result struct {
		diffID digest.Digest
		err    error
	}
	done := make(chan result, 1)
	go func() {
		var res result
		in := new(atomic.Int64)
		zr, err := gzip.NewReader(countingReader{pr, in})
		if err == nil {
			h := sha256.New()
			if _, err = io.Copy(h, &expansionGuard{r: zr, in: in}); err == nil {
				res.diffID = digest.NewDigest(digest.SHA256, h)
			}
		}
		res.err = err
		// Keep the tee flowing whatever happened here.
		_, _ = io.Copy(io.Discard, pr)
		done <- res
	}()
	blob := newCounter()
	desc, err := sink.PutBlob(ctx, ocispec.MediaTypeImageLayerGzip, io.TeeReader(src, io.MultiWriter(blob, pw)))
	if err != nil {
		pw.CloseWithError(err)
		<-done
		return convertedLayer{}, err
	}
	pw.Close()
	res := <-done
	if res.err != nil {
		return convertedLayer{}, fmt.Errorf("gunzipping it for its diff_id: %w", res.err)
	}
	if err := blob.check(desc, ocispec.MediaTypeImageLayerGzip); err != nil {
		return convertedLayer{}, err
	}
	return convertedLayer{desc: blob.desc(ocispec.MediaTypeImageLayerGzip), diffID: res.diffID}, nil
}

// errSinkDone stops the compressing goroutine once the sink has returned.
var errSinkDone = errors.New("the blob sink stopped reading")

// putCompressing gzips an uncompressed tar into the sink, hashing the tar
// for its diff_id on the way.
func putCompressing(ctx context.Context, raw io.Reader, sink BlobSink) (convertedLayer, error) {
	pr, pw := io.Pipe()
	diff := sha256.New()
	done := make(chan error, 1)
	go func() {
		gw := gzip.NewWriter(pw)
		_, err := io.Copy(io.MultiWriter(diff, gw), raw)
		if err == nil {
			err = gw.Close()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	blob := newCounter()
	desc, err := sink.PutBlob(ctx, ocispec.MediaTypeImageLayerGzip, io.TeeReader(pr, blob))
	pr.CloseWithError(errSinkDone)
	cerr := <-done
	switch {
	case err != nil:
		return convertedLayer{}, err
	case cerr != nil:
		return convertedLayer{}, fmt.Errorf("compressing it: %w", cerr)
	}
	if err := blob.check(desc, ocispec.MediaTypeImageLayerGzip); err != nil {
		return convertedLayer{}, err
	}
	return convertedLayer{desc: blob.desc(ocispec.MediaTypeImageLayerGzip), diffID: digest.NewDigest(digest.SHA256, diff)}, nil
}

// counter hashes and counts the bytes handed to a sink, to check the
// descriptor it returns.
type counter struct {
	h hash.Hash
	n int64
}

func newCounter() *counter { return &counter{h: sha256.New()} }

func (c *counter) Write(p []byte) (int, error) {
	c.h.Write(p)
	c.n += int64(len(p))
	return len(p), nil
}

func (c *counter) desc(mediaType string) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.NewDigest(digest.SHA256, c.h), Size: c.n}
}

// check compares the sink's descriptor with what went through.
func (c *counter) check(got ocispec.Descriptor, mediaType string) error {
	want := c.desc(mediaType)
	if got.Digest != want.Digest || got.Size != want.Size {
		return fmt.Errorf("the blob sink stored %s (%d bytes), but %s (%d bytes) went through", got.Digest, got.Size, want.Digest, want.Size)
	}
	return nil
}

// drainReader reads r to EOF and yields nothing.
type drainReader struct{ r io.Reader }

func (d drainReader) Read([]byte) (int, error) {
	if _, err := io.Copy(io.Discard, d.r); err != nil {
		return 0, err
	}
	return 0, io.EOF
}

// eofReader notes whether its reader reached io.EOF.
type eofReader struct {
	r   io.Reader
	eof bool
}

func (e *eofReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.eof = true
	}
	return n, err
}
