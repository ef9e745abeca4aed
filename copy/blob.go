package copy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
)

// located is a store bound to a repository of a registry; remote stores
// implement it, and mounts and the blob-location cache need it.
type located interface {
	Registry() string
	Repository() string
}

// blob makes desc present in dst, once per Copier even when several copies
// ask at the same time.
// t is its place in the queue for a bulk slot (nil for a small blob); it
// is released when blob returns.
func (c *Copier) blob(ctx context.Context, src store.Reader, dst store.Writer, desc ocispec.Descriptor, st *stats, t *ticket) error {
	if t != nil {
		defer t.release()
	}
	key := flightKey{dst, desc.Digest}
	c.mu.Lock()
	if f, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		if t != nil {
			t.release() // waiting on another copy's transfer needs no slot
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if f.err == nil {
			st.record(desc.Digest, BlobSkipped)
			c.o.events(Event{Kind: BlobSkipped, Descriptor: desc})
			return nil
		}
		// The other copy failed, perhaps for its own reasons (its context
		// ended): try again ourselves.
		return c.transfer(ctx, src, dst, desc, st, nil)
	}
	f := &flight{done: make(chan struct{})}
	c.inflight[key] = f
	c.mu.Unlock()

	f.err = c.viaSibling(ctx, src, dst, desc, st, t)
	if f.err != nil {
		c.mu.Lock()
		delete(c.inflight, key) // let a later copy retry it
		c.mu.Unlock()
	}
	close(f.done)
	return f.err
}

// transfer moves one blob: skip if present, else mount if possible, else
// resume a partial, else stream it.
// t is the transfer's place in the bulk queue, queued by the caller; nil
// queues a new one (a small blob takes a small slot instead).
func (c *Copier) transfer(ctx context.Context, src store.Reader, dst store.Writer, desc ocispec.Descriptor, st *stats, t *ticket) error {
	if desc.Size >= 0 && desc.Size < smallBlob {
		select {
		case c.smallSem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-c.smallSem }()
	} else {
		if t == nil {
			t = c.bulk.enqueue(desc.Size)
		}
		if err := t.wait(ctx); err != nil {
			return err
		}
		defer t.release()
	}

	srcLoc, _ := src.(located)
	if srcLoc != nil {
		c.o.cache.Add(srcLoc.Registry(), srcLoc.Repository(), desc.Digest)
	}
	ok, err := c.exists(ctx, dst, desc)
	if err != nil {
		return err
	}
	if ok {
		st.record(desc.Digest, BlobSkipped)
		c.o.events(Event{Kind: BlobSkipped, Descriptor: desc})
		c.remember(dst, desc)
		return nil
	}
	if m, ok := dst.(store.Mounter); ok {
		mounted, err := c.mount(ctx, srcLoc, m, desc)
		if err != nil {
			return err
		}
		if mounted {
			st.record(desc.Digest, BlobMounted)
			return nil
		}
	}
	if err := c.stream(ctx, withInlineData(src, desc), dst, desc, st); err != nil {
		return fmt.Errorf("copy %s: %w", describe(desc), err)
	}
	st.record(desc.Digest, BlobDone)
	c.o.events(Event{Kind: BlobDone, Descriptor: desc, Bytes: desc.Size})
	c.remember(dst, desc)
	return nil
}

// mount tries the source repository (when it is on the target's registry)
// and then the repositories the blob-location cache knows, at most three.
func (c *Copier) mount(ctx context.Context, srcLoc located, m store.Mounter, desc ocispec.Descriptor) (bool, error) {
	var from []string
	if srcLoc != nil && srcLoc.Registry() == m.Registry() && srcLoc.Repository() != m.Repository() {
		from = append(from, srcLoc.Repository())
	}
	for _, r := range c.o.cache.Repositories(m.Registry(), desc.Digest) {
		if r != m.Repository() && (len(from) == 0 || r != from[0]) {
			from = append(from, r)
		}
	}
	if len(from) > 3 {
		from = from[:3]
	}
	for _, repo := range from {
		ok, err := m.Mount(ctx, desc, repo)
		if err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			// A stale cache entry or a repository we may not read: not a
			// reason to fail the copy, the upload will do.
			continue
		}
		if ok {
			c.o.events(Event{Kind: BlobMounted, Descriptor: desc, From: repo})
			c.o.cache.Add(m.Registry(), m.Repository(), desc.Digest)
			return true, nil
		}
	}
	return false, nil
}

// stream copies the blob's bytes, and once more from the start when the
// first try failed in a way a second may not.
func (c *Copier) stream(ctx context.Context, src store.Reader, dst store.Writer, desc ocispec.Descriptor, st *stats) error {
	err := c.streamOnce(ctx, src, dst, desc, st)
	if err == nil || !worthAnotherTry(ctx, err) {
		return err
	}
	// Once more: a fresh read of the source (whose bytes may have failed
	// their check) and a new upload session, or, into a target that kept
	// what arrived, a resume from there.
	return c.streamOnce(ctx, src, dst, desc, st)
}

// streamOnce moves the blob's bytes into dst: through an ingest named by
// the digest, so that what an interrupted copy (this one's first try, or
// an earlier run) left staged is resumed, when dst is an Ingester and src
// can start part way; with Push otherwise.
func (c *Copier) streamOnce(ctx context.Context, src store.Reader, dst store.Writer, desc ocispec.Descriptor, st *stats) error {
	ing, ok := dst.(store.Ingester)
	if !ok {
		c.o.events(Event{Kind: BlobStarted, Descriptor: desc})
		rc, err := src.Fetch(ctx, desc)
		if err != nil {
			return err
		}
		defer rc.Close()
		return dst.Push(ctx, desc, c.progress(desc, 0, rc, st))
	}
	if sr, ok := c.sectioned(src, desc); ok {
		in, err := ing.Ingest(ctx, desc.Digest.String(), store.IngestOptions{Expected: desc})
		if err != nil {
			return err
		}
		if si, ok := in.(store.SectionIngest); ok {
			err := c.fetchSections(ctx, src, sr, si, desc, st)
			if !errors.Is(err, errNoSections) {
				return err
			}
		} else if spoolable(in) {
			// A target that takes bytes only in order (an upload, an
			// archive): the sections go through a spool.
			err := c.spoolSections(ctx, src, sr, in, desc, st)
			if !errors.Is(err, errNoSections) {
				return err
			}
		} else {
			in.Close() // kept for openIngest to take up again
		}
	}
	in, rc, err := c.openIngest(ctx, src, ing, desc)
	if err != nil {
		return err
	}
	defer rc.Close()
	off := in.Offset()
	c.o.events(Event{Kind: BlobStarted, Descriptor: desc, Bytes: off})
	return store.CopyIngest(ctx, in, desc, c.progress(desc, off, rc, st))
}

// openIngest opens dst's ingest of desc and the source's bytes from where
// it stands: the whole blob, or the rest after a staged prefix. A prefix
// the source cannot continue (no range reads, or a refusal) is dropped.
func (c *Copier) openIngest(ctx context.Context, src store.Reader, dst store.Ingester, desc ocispec.Descriptor) (store.Ingest, io.ReadCloser, error) {
	ref := desc.Digest.String()
	opts := store.IngestOptions{Expected: desc}
	in, err := dst.Ingest(ctx, ref, opts)
	if err != nil {
		return nil, nil, err
	}
	if in.Offset() == desc.Size {
		// All there but not committed (stopped just before): Commit
		// verifies it.
		return in, io.NopCloser(strings.NewReader("")), nil
	}
	if off := in.Offset(); off > 0 && off < desc.Size {
		if rr, ok := src.(store.RangeReader); ok {
			rc, err := rr.FetchFrom(ctx, desc, off)
			if err == nil {
				return in, rc, nil
			}
			if ctx.Err() != nil {
				in.Close()
				return nil, nil, err
			}
		}
	}
	if in.Offset() > 0 {
		// Nothing to continue from: start the ingest over.
		if err := in.Abort(ctx); err != nil {
			return nil, nil, err
		}
		if in, err = dst.Ingest(ctx, ref, opts); err != nil {
			return nil, nil, err
		}
	}
	rc, err := src.Fetch(ctx, desc)
	if err != nil {
		in.Close()
		return nil, nil, err
	}
	return in, rc, nil
}

func (c *Copier) remember(dst store.Writer, desc ocispec.Descriptor) {
	if l, ok := dst.(located); ok {
		c.o.cache.Add(l.Registry(), l.Repository(), desc.Digest)
	}
}

// progressReader counts bytes for events and statistics.
type progressReader struct {
	r    io.Reader
	desc ocispec.Descriptor
	n    int64
	emit func(Event)
	st   *stats
}

func (c *Copier) progress(desc ocispec.Descriptor, off int64, r io.Reader, st *stats) io.Reader {
	return &progressReader{r: r, desc: desc, n: off, emit: c.o.events, st: st}
}

// VerifiedAgainst forwards the source's verification, so that the target
// does not hash the bytes a second time (see content.Verifying).
func (p *progressReader) VerifiedAgainst() (ocispec.Descriptor, bool) {
	if v, ok := p.r.(content.Verifying); ok {
		return v.VerifiedAgainst()
	}
	return ocispec.Descriptor{}, false
}

// DeferVerification forwards the source's (content.Deferring), counting
// the deferred bytes as it counts its own.
func (p *progressReader) DeferVerification() (content.Deferred, bool) {
	d, ok := p.r.(content.Deferring)
	if !ok {
		return content.Deferred{}, false
	}
	dv, ok := d.DeferVerification()
	if ok {
		dv.R = &progressReader{r: dv.R, desc: p.desc, n: p.n, emit: p.emit, st: p.st}
	}
	return dv, ok
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.n += int64(n)
		p.st.bytes.Add(int64(n))
		p.emit(Event{Kind: BlobProgress, Descriptor: p.desc, Bytes: p.n})
	}
	return n, err
}
