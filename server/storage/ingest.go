package storage

import (
	"context"
	"crypto/sha256"
	"encoding"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	driver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/store"
)

// safeRef is an ingest ref usable as a path component as it is.
var safeRef = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// uploadDir is where the ingest ref of repository r keeps its state.
func (r *Repository) uploadDir(ref string) string {
	if !safeRef.MatchString(ref) {
		ref = "h-" + digest.FromString(ref).Encoded()[:40]
	}
	return path.Join(r.root, dirUploads, ref)
}

// Ingest opens the upload ref of this repository (store.Ingester): ref ""
// starts a new one with a random ref; an unknown ref starts a new one under
// that name unless opts.Resume is set, in which case it is an error
// matching errdef.ErrNotFound. The bytes and the hash state live in
// storage, so any process on the same storage can resume it.
func (r *Repository) Ingest(ctx context.Context, ref string, opts store.IngestOptions) (store.Ingest, error) {
	return r.openUpload(ctx, ref, opts)
}

func (r *Repository) openUpload(ctx context.Context, ref string, opts store.IngestOptions) (*upload, error) {
	alg := digest.SHA256
	if opts.Expected.Digest != "" {
		if err := validDigest(opts.Expected.Digest); err != nil {
			return nil, err
		}
		alg = opts.Expected.Digest.Algorithm()
	}
	fresh := ref == ""
	if fresh {
		ref = randomID()
	}
	u := &upload{r: r, ctx: ctx, ref: ref, dir: r.uploadDir(ref), alg: alg, expected: opts.Expected}
	if !fresh {
		_, err := r.ns.d.Stat(ctx, u.path("started"))
		switch {
		case isNotFound(err) && opts.Resume:
			return nil, &NotFoundError{Repository: r.name, What: "upload " + ref}
		case isNotFound(err):
			fresh = true
		case err != nil:
			return nil, fmt.Errorf("upload %s: %w", ref, err)
		}
	}
	if fresh {
		stamp := []byte(r.ns.cfg.now().UTC().Format(time.RFC3339Nano))
		if err := r.ns.d.PutContent(ctx, u.path("started"), stamp); err != nil {
			return nil, fmt.Errorf("starting upload in %s: %w", r.name, err)
		}
		u.h = alg.Hash()
		return u, nil
	}
	fi, err := r.ns.d.Stat(ctx, u.path("data"))
	switch {
	case isNotFound(err):
		// No data yet, or data a driver shows only to an append-writer
		// (an object store's unfinished multipart upload): the writer
		// knows how much there is.
		w, err := r.ns.d.Writer(ctx, u.path("data"), true)
		if err != nil {
			return nil, fmt.Errorf("upload %s: %w", ref, err)
		}
		u.w, u.offset = w, w.Size()
	case err != nil:
		return nil, fmt.Errorf("upload %s: %w", ref, err)
	default:
		u.offset = fi.Size()
	}
	if opts.Expected.Size > 0 && u.offset > opts.Expected.Size {
		return nil, &content.MismatchError{Want: opts.Expected, GotSize: u.offset}
	}
	if err := u.loadHash(ctx); err != nil {
		return nil, err
	}
	return u, nil
}

// upload is one open ingest of a Repository.
type upload struct {
	r        *Repository
	ctx      context.Context // the Ingest call's: the contract runs writes under it
	ref      string
	dir      string
	alg      digest.Algorithm
	expected ocispec.Descriptor
	h        hash.Hash // hash of the first offset bytes
	w        driver.FileWriter
	offset   int64
	done     bool
}

func (u *upload) path(name string) string { return path.Join(u.dir, name) }

func (u *upload) statePath(offset int64) string {
	return path.Join(u.dir, "hash", string(u.alg)+"-"+strconv.FormatInt(offset, 10))
}

// Ref returns the upload's ref.
func (u *upload) Ref() string { return u.ref }

// Offset returns how many bytes the upload holds.
func (u *upload) Offset() int64 { return u.offset }

// loadHash restores the hash of the first offset bytes: from the state the
// last request saved, or, when there is none (a process killed between
// writing and saving), by hashing the stored bytes again.
func (u *upload) loadHash(ctx context.Context) error {
	u.h = u.alg.Hash()
	if u.offset == 0 {
		return nil
	}
	if st, err := u.r.ns.d.GetContent(ctx, u.statePath(u.offset)); err == nil {
		if um, ok := u.h.(encoding.BinaryUnmarshaler); ok && um.UnmarshalBinary(st) == nil {
			return nil
		}
		u.h = u.alg.Hash()
	}
	return u.rehash(ctx, u.h)
}

// rehash feeds the stored bytes into h.
func (u *upload) rehash(ctx context.Context, h hash.Hash) error {
	if u.offset == 0 {
		return nil
	}
	rc, err := u.r.ns.d.Reader(ctx, u.path("data"), 0)
	if err != nil {
		return fmt.Errorf("upload %s: re-reading: %w", u.ref, err)
	}
	defer rc.Close()
	if n, err := io.CopyN(h, rc, u.offset); err != nil {
		return fmt.Errorf("upload %s: re-reading after %d of %d bytes: %w", u.ref, n, u.offset, err)
	}
	return nil
}

// Write appends p to the upload.
func (u *upload) Write(p []byte) (int, error) {
	if u.done {
		return 0, errors.New("upload already committed or aborted")
	}
	if u.expected.Size > 0 && u.offset+int64(len(p)) > u.expected.Size {
		return 0, &content.MismatchError{Want: u.expected, GotSize: u.offset + int64(len(p))}
	}
	if u.w == nil {
		w, err := u.r.ns.d.Writer(u.ctx, u.path("data"), true)
		if err != nil {
			return 0, fmt.Errorf("upload %s: %w", u.ref, err)
		}
		if w.Size() != u.offset {
			// Another request wrote meanwhile; the caller's offset is stale.
			_ = w.Close()
			return 0, fmt.Errorf("%w: upload %s holds %d bytes, not %d: another request wrote to it", errdef.ErrRangeInvalid, u.ref, w.Size(), u.offset)
		}
		u.w = w
	}
	n, err := u.w.Write(p)
	u.h.Write(p[:n])
	u.offset += int64(n)
	return n, err
}

// Close flushes what was written and saves the hash state, so the next
// request resumes without re-reading.
func (u *upload) Close() error {
	if u.done || u.w == nil {
		return nil
	}
	err := u.w.Close()
	u.w = nil
	if err != nil {
		return fmt.Errorf("upload %s: %w", u.ref, err)
	}
	m, ok := u.h.(encoding.BinaryMarshaler)
	if !ok {
		return nil
	}
	st, err := m.MarshalBinary()
	if err != nil {
		return nil
	}
	old, _ := u.r.ns.d.List(u.ctx, path.Join(u.dir, "hash"))
	if err := u.r.ns.d.PutContent(u.ctx, u.statePath(u.offset), st); err != nil {
		return nil // the next request re-reads instead
	}
	for _, o := range old {
		if o != u.statePath(u.offset) {
			_ = u.r.ns.d.Delete(u.ctx, o)
		}
	}
	return nil
}

// Abort discards the upload.
func (u *upload) Abort(ctx context.Context) error {
	if u.w != nil {
		_ = u.w.Cancel(ctx)
		u.w = nil
	}
	u.done = true
	return u.r.ns.deleteIfExists(ctx, u.dir)
}

// Commit verifies the upload against size and expected and makes it the
// blob expected names, linked into the repository.
func (u *upload) Commit(ctx context.Context, size int64, expected digest.Digest) (ocispec.Descriptor, error) {
	if u.done {
		return ocispec.Descriptor{}, errors.New("upload already committed or aborted")
	}
	if err := validDigest(expected); err != nil {
		return ocispec.Descriptor{}, err
	}
	if u.w != nil {
		err := u.w.Commit(ctx)
		if cerr := u.w.Close(); err == nil && cerr != nil && !strings.Contains(cerr.Error(), "already closed") {
			err = cerr
		}
		u.w = nil
		if err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("upload %s: %w", u.ref, err)
		}
	} else if u.offset == 0 {
		if err := u.r.ns.d.PutContent(ctx, u.path("data"), nil); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("upload %s: %w", u.ref, err)
		}
	}
	want := ocispec.Descriptor{Digest: expected, Size: size}
	if size >= 0 && u.offset != size {
		_ = u.Abort(ctx)
		return ocispec.Descriptor{}, &content.MismatchError{Want: want, GotSize: u.offset}
	}
	h := u.h
	if expected.Algorithm() != u.alg {
		h = expected.Algorithm().Hash()
		if err := u.rehash(ctx, h); err != nil {
			return ocispec.Descriptor{}, err
		}
	}
	got := digest.NewDigest(expected.Algorithm(), h)
	if got != expected {
		_ = u.Abort(ctx)
		want.Size = -1
		return ocispec.Descriptor{}, &content.MismatchError{Want: want, GotSize: u.offset, GotDigest: got}
	}
	ns := u.r.ns
	if _, err := ns.d.Stat(ctx, blobData(expected)); err == nil {
		if err := ns.touchUsed(ctx, expected); err != nil {
			return ocispec.Descriptor{}, err
		}
	} else if !isNotFound(err) {
		return ocispec.Descriptor{}, err
	} else if err := ns.move(ctx, u.path("data"), blobData(expected)); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("upload %s: storing blob %s: %w", u.ref, expected, err)
	}
	if err := u.r.linkBlob(ctx, expected); err != nil {
		return ocispec.Descriptor{}, err
	}
	u.done = true
	_ = ns.deleteIfExists(ctx, u.dir)
	return ocispec.Descriptor{Digest: expected, Size: u.offset}, nil
}

// sha256 is always linked in: it is the default algorithm.
var _ = sha256.New
