package ocilayout

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/internal/blobio"
	"github.com/hoist-dev/hoist/store"
)

// Ingest opens the blob ingest ref (store.Ingester). Its bytes live in a
// staging file under DIR/.hoist-tmp named by ref (a digest ref names it
// ALG-HEX.partial), flock'd while the ingest is open, so that a process
// stopped part way, even by SIGKILL, leaves them for the next Ingest of
// the same ref, in this process or another, to resume at Offset. Ref ""
// picks a new ref.
//
// When another writer holds ref's staging file and opts.Expected names
// the blob, the ingest writes a private temporary file instead, from
// offset 0, which Close removes: two writers of one blob both succeed and
// their renames leave the same bytes. Without Expected, or with
// opts.Resume, a busy ref is an error.
//
// A staged prefix is not checked when it is opened: it is hashed once,
// when the ingest first needs its hash, and Commit verifies the whole
// blob, discarding it on a mismatch. Ingests take blobs; manifests go
// through Push, which checks their children.
func (l *Layout) Ingest(ctx context.Context, ref string, opts store.IngestOptions) (store.Ingest, error) {
	ref, err := store.CheckIngest(ctx, ref, opts)
	if err != nil {
		return nil, err
	}
	alg := digest.Canonical
	if d := opts.Expected.Digest; d != "" {
		alg = d.Algorithm()
	}
	in := &ingest{l: l, ctx: ctx, ref: ref, expected: opts.Expected, alg: alg}
	path := l.stagePath(ref)
	if opts.Resume {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("OCI layout %s has no ingest %q: %w", l.dir, ref, store.ErrNotFound)
		}
	}
	f, err := l.openStage(path)
	if err != nil {
		return nil, fmt.Errorf("ingest %s into OCI layout %s: %w", ref, l.dir, err)
	}
	if f == nil {
		if opts.Resume || opts.Expected.Digest == "" {
			return nil, fmt.Errorf("ingest %s into OCI layout %s: another writer has it open", ref, l.dir)
		}
		if f, err = l.createTemp(opts.Expected); err != nil {
			return nil, fmt.Errorf("ingest %s into OCI layout %s: %w", ref, l.dir, err)
		}
		in.f, in.private, in.h = f, true, alg.Hash()
		return in, nil
	}
	in.f = f
	fi, err := f.Stat()
	if err != nil {
		in.Close()
		return nil, err
	}
	in.offset = fi.Size()
	if _, err := in.openRecord(fi.Size()); err != nil {
		in.Close()
		return nil, fmt.Errorf("ingest %s into OCI layout %s: %w", ref, l.dir, err)
	}
	if opts.Expected.Size >= 0 && opts.Expected.Digest != "" && in.offset > opts.Expected.Size {
		// Longer than the blob can be: nothing of it is worth keeping.
		if err := f.Truncate(0); err != nil {
			in.Close()
			return nil, err
		}
		in.offset = 0
		if in.sec != nil {
			in.sec.held = nil
		}
	}
	if _, err := f.Seek(in.offset, io.SeekStart); err != nil {
		in.Close()
		return nil, err
	}
	if in.offset == 0 {
		in.h = alg.Hash()
	}
	return in, nil
}

// ingest is one open ingest of a Layout.
type ingest struct {
	l        *Layout
	ctx      context.Context // the Ingest call's: writes run under it
	ref      string
	f        *os.File // the staging file, flock'd; or a private temporary file
	private  bool
	expected ocispec.Descriptor
	alg      digest.Algorithm
	offset   int64
	// h hashes the first offset bytes with alg; nil when it is not known
	// yet (a staged prefix, or bytes a verifying source vouched for).
	h hash.Hash
	// trusted is set when the bytes are exactly expected's, as a source
	// that verifies expected itself reported by reaching io.EOF.
	trusted bool
	done    bool
	// sec, once bytes were written at offsets (WriteAt) or the staging
	// file has a record of such writes, tracks them (sections.go).
	sec     *sections
	secOnce sync.Once
	secErr  error
	// hinted is how far the kernel was asked to start writing the file
	// back (writeback); under sec.mu once sec is set.
	hinted int64
	// wmu serializes WriteAt's writes to f. The kernel serializes
	// buffered writes to one file anyway (the inode lock); waiting here
	// parks the goroutine, where waiting there holds an OS thread.
	wmu sync.Mutex
}

var errIngestDone = errors.New("the ingest was already committed or aborted")

// Ref returns the ingest's ref.
func (in *ingest) Ref() string { return in.ref }

// Offset returns how many bytes the ingest holds from the start.
func (in *ingest) Offset() int64 {
	if s := in.sec; s != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	return in.offset
}

// Write appends p, hashing it.
func (in *ingest) Write(p []byte) (int, error) {
	if err := in.writable(); err != nil {
		return 0, err
	}
	if in.sec != nil {
		return in.WriteAt(p, in.Offset())
	}
	if err := in.ensureHash(); err != nil {
		return 0, err
	}
	in.trusted = false
	if e := in.expected; e.Digest != "" && e.Size >= 0 && in.offset+int64(len(p)) > e.Size {
		return 0, &content.MismatchError{Want: e, GotSize: in.offset + int64(len(p))}
	}
	n, err := in.f.Write(p)
	in.h.Write(p[:n])
	in.offset += int64(n)
	if from, ok := in.writebackDue(in.offset); ok {
		startWritebackRange(in.f, from, in.offset-from)
	}
	return n, err
}

// writebackDue reports whether the bytes written since the last
// writeback, up to to, are writebackEvery or more, and if so records
// their writeback as started and returns where they begin. The caller
// holds sec.mu once sec is set.
func (in *ingest) writebackDue(to int64) (from int64, ok bool) {
	if to-in.hinted < writebackEvery {
		return 0, false
	}
	from, in.hinted = in.hinted, to
	return from, true
}

// ReadFrom appends r to the end. A source that verifies the expected
// blob itself (content.Verifying), read from the start, is not hashed
// again: its io.EOF vouches for the bytes.
func (in *ingest) ReadFrom(r io.Reader) (int64, error) {
	if err := in.writable(); err != nil {
		return 0, err
	}
	src := blobio.ContextReader(in.ctx, r)
	if in.sec != nil || in.offset > 0 || in.h == nil || !in.vouches(r) {
		return blobio.Copy(in, src)
	}
	n, err := blobio.Copy(in.f, src)
	in.offset += n
	in.h = nil // unknown until needed: the source hashed the bytes
	in.trusted = err == nil
	return n, err
}

// vouches reports whether r verifies exactly the expected blob.
func (in *ingest) vouches(r io.Reader) bool {
	v, ok := r.(content.Verifying)
	if !ok || in.expected.Digest == "" || in.expected.Size < 0 {
		return false
	}
	d, ok := v.VerifiedAgainst()
	return ok && d.Digest == in.expected.Digest && d.Size == in.expected.Size
}

func (in *ingest) writable() error {
	if in.done {
		return errIngestDone
	}
	return in.ctx.Err()
}

// ensureHash makes h the hash of what the file holds, reading it back
// once when that is not known.
func (in *ingest) ensureHash() error {
	if in.h != nil {
		return nil
	}
	h, err := in.hashFile(in.alg)
	if err != nil {
		return err
	}
	in.h = h
	return nil
}

// hashFile hashes the first offset bytes of the file with alg.
func (in *ingest) hashFile(alg digest.Algorithm) (hash.Hash, error) {
	if !alg.Available() {
		return nil, fmt.Errorf("%w: digest algorithm %q", errdef.ErrUnsupported, alg)
	}
	h := alg.Hash()
	src := blobio.ContextReader(in.ctx, io.NewSectionReader(in.f, 0, in.offset))
	if _, err := blobio.Copy(h, src); err != nil {
		return nil, fmt.Errorf("ingest %s: reading back the staged bytes: %w", in.ref, err)
	}
	return h, nil
}

// Commit checks the ingest against size and expected and renames it into
// blobs/. A mismatch discards it. When the layout already has the blob
// (another writer finished it), the staged copy is dropped.
func (in *ingest) Commit(ctx context.Context, size int64, expected digest.Digest) (ocispec.Descriptor, error) {
	if in.done {
		return ocispec.Descriptor{}, errIngestDone
	}
	if err := validDigest(expected); err != nil {
		return ocispec.Descriptor{}, err
	}
	want := ocispec.Descriptor{Digest: expected, Size: size}
	if size >= 0 && in.offset != size {
		in.Abort(ctx)
		return ocispec.Descriptor{}, &content.MismatchError{Want: want, GotSize: in.offset}
	}
	got := ocispec.Descriptor{MediaType: in.expected.MediaType, Digest: expected, Size: in.offset}
	if !(in.trusted && expected == in.expected.Digest) {
		h := in.h
		if h == nil || expected.Algorithm() != in.alg {
			var err error
			if h, err = in.hashFile(expected.Algorithm()); err != nil {
				return ocispec.Descriptor{}, err
			}
		}
		if d := digest.NewDigest(expected.Algorithm(), h); d != expected {
			in.Abort(ctx)
			want.Size = -1
			return ocispec.Descriptor{}, &content.MismatchError{Want: want, GotSize: in.offset, GotDigest: d}
		}
	}
	l := in.l
	in.done = true
	defer in.f.Close() // after the rename or removal: releases the lock
	// The record goes first: a staging file without one is whole up to
	// its length, which this one is.
	in.dropRecord()
	if ok, err := l.Exists(ctx, got); err == nil && ok {
		os.Remove(in.f.Name())
		l.tidy()
		return got, nil
	}
	if err := l.commit(in.f, got); err != nil {
		os.Remove(in.f.Name())
		l.tidy()
		return ocispec.Descriptor{}, fmt.Errorf("ingest %s into OCI layout %s: %w", in.ref, l.dir, err)
	}
	if in.private {
		l.dropStage(l.stagePath(in.ref))
	}
	return got, nil
}

// Abort removes the staged bytes.
func (in *ingest) Abort(ctx context.Context) error {
	if in.done {
		return nil
	}
	in.done = true
	err := os.Remove(in.f.Name())
	in.f.Close()
	in.dropRecord()
	in.l.tidy()
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return err
}

// Close keeps the staged bytes for a later Ingest of the same ref and
// releases the lock. A private ingest (see Layout.Ingest) cannot be
// resumed, so Close removes it.
func (in *ingest) Close() error {
	if in.done {
		return nil
	}
	if in.private {
		return in.Abort(in.ctx)
	}
	in.done = true
	in.closeRecord()
	return in.f.Close()
}
