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
	u := &upload{r: r, ctx: ctx, ref: ref, dir: r.uploadDir(ref), alg: alg, expected: opts.Expected, part: r.ns.cfg.partSize}
	var w driver.FileWriter
	var werr error
	if !fresh {
		var err error
		w, werr, err = u.probe(ctx)
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
		if err := u.start(ctx); err != nil {
			return nil, fmt.Errorf("starting upload in %s: %w", r.name, err)
		}
		return u, nil
	}
	// The writer, not Stat, says how much the upload holds: on an object
	// store the bytes are an unfinished multipart upload, which Stat does
	// not see (or sees as an older, shorter object).
	switch err := werr; {
	case isNotFound(err):
		// Nothing written yet.
	case err != nil:
		// An object store refuses to append to a finished object: a
		// commit stopped between finishing the bytes and moving them
		// into place. They are all there, and readable.
		fi, serr := r.ns.d.Stat(ctx, u.path("data"))
		if serr != nil || fi.IsDir() {
			return nil, u.lost(ctx, fmt.Errorf("opening its bytes: %w", err))
		}
		u.offset, u.durable, u.sealed = fi.Size(), fi.Size(), true
	default:
		u.w, u.offset, u.durable = w, w.Size(), w.Size()
	}
	if opts.Expected.Size > 0 && u.offset > opts.Expected.Size {
		_ = u.w.Close()
		return nil, &content.MismatchError{Want: opts.Expected, GotSize: u.offset}
	}
	if err := u.loadHash(ctx); err != nil {
		return nil, err
	}
	return u, nil
}

// probe finds out whether the upload exists (its started stamp) and opens
// its bytes for appending: the writer, or the driver's error opening it.
// On an object store (a part size) both are asked at once: the append
// writer of a path that has none creates nothing there. Elsewhere the
// writer is opened only once the stamp is known to exist.
func (u *upload) probe(ctx context.Context) (w driver.FileWriter, werr, err error) {
	d := u.r.ns.d
	if u.part == 0 {
		if _, err := d.Stat(ctx, u.path("started")); err != nil {
			return nil, nil, err
		}
		w, werr = d.Writer(ctx, u.path("data"), true)
		return w, werr, nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		w, werr = d.Writer(ctx, u.path("data"), true)
	}()
	_, err = d.Stat(ctx, u.path("started"))
	<-done
	if err != nil && werr == nil {
		_ = w.Close() // nothing written through it; the upload's bytes, if any, stay
	}
	return w, werr, err
}

// start records a new upload: its started stamp, which says it exists
// and when it began (GC's grace period). On an object store its
// multipart upload is created at the same time, as distribution does,
// so the requests that send the bytes find it, where looking for one
// that is not there costs three requests more.
func (u *upload) start(ctx context.Context) error {
	d := u.r.ns.d
	u.h = u.alg.Hash()
	stamp := []byte(u.r.ns.cfg.now().UTC().Format(time.RFC3339Nano))
	if u.part == 0 {
		return d.PutContent(ctx, u.path("started"), stamp)
	}
	var w driver.FileWriter
	var werr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		w, werr = d.Writer(ctx, u.path("data"), false)
	}()
	err := d.PutContent(ctx, u.path("started"), stamp)
	<-done
	if err == nil && werr != nil {
		err = werr
	}
	if err != nil {
		if werr == nil {
			_ = w.Cancel(ctx)
		}
		return err
	}
	u.w = w
	return nil
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
	settled  bool  // w has taken its first Write (see settle)
	offset   int64 // bytes written, durable or buffered in w
	durable  int64 // bytes storage holds whatever happens to this process
	part     int64 // the driver's part size; 0 when every byte written is readable
	broken   bool  // a Write failed part way: what w holds is not known
	sealed   bool  // the bytes are a finished object: nothing can be appended
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

// loadHash restores the hash of the first offset bytes: from the state
// saved for that offset, or, when there is none, by hashing the stored
// bytes again. An upload whose bytes cannot be read back (an object
// store's unfinished multipart upload) and whose state is missing cannot
// go on: it is discarded, and the error matches errdef.ErrNotFound, so
// the client is told to start it again.
//
// The state may be of another algorithm than the one the request names:
// an upload started without a digest hashes with sha256 until its last
// request names a sha512 digest. The saved state's algorithm is then the
// upload's, and Commit hashes again for the other one, once the bytes
// are committed and readable.
func (u *upload) loadHash(ctx context.Context) error {
	u.h = u.alg.Hash()
	if u.offset == 0 {
		return nil
	}
	for i, alg := range []digest.Algorithm{u.alg, digest.SHA256, digest.SHA512} {
		if i > 0 && alg == u.alg {
			continue
		}
		st, err := u.r.ns.d.GetContent(ctx, path.Join(u.dir, "hash", string(alg)+"-"+strconv.FormatInt(u.offset, 10)))
		if err != nil {
			continue
		}
		h := alg.Hash()
		if um, ok := h.(encoding.BinaryUnmarshaler); ok && um.UnmarshalBinary(st) == nil {
			u.alg, u.h = alg, h
			return nil
		}
	}
	if err := u.rehash(ctx, u.h); err != nil {
		return u.lost(ctx, err)
	}
	return nil
}

// lost discards an upload that cannot be continued and returns the
// NotFoundError that tells the client to start again.
func (u *upload) lost(ctx context.Context, cause error) error {
	_ = u.Abort(ctx)
	return &NotFoundError{Repository: u.r.name, What: fmt.Sprintf("upload %s (its bytes cannot be resumed: %v; start the upload again)", u.ref, cause)}
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

// settle opens the writer if needed and gives it its first (empty) Write:
// an object store's writer may rearrange its parts then (distribution's
// S3 driver finishes a multipart upload whose last part is too small and
// starts another), after which Size and the buffered bytes are where the
// next part boundary is computed from.
func (u *upload) settle() error {
	if u.w == nil {
		if u.offset != 0 {
			return fmt.Errorf("%w: upload %s holds %d bytes but its writer is gone", errdef.ErrRangeInvalid, u.ref, u.offset)
		}
		w, err := u.r.ns.d.Writer(u.ctx, u.path("data"), false)
		if err != nil {
			return fmt.Errorf("upload %s: %w", u.ref, err)
		}
		u.w = w
	}
	if !u.settled {
		if _, err := u.w.Write(nil); err != nil {
			return fmt.Errorf("upload %s: %w", u.ref, err)
		}
		u.settled = true
	}
	return nil
}

// Write appends p to the upload. With a part size (an object store), the
// hash state of each part boundary is saved before the bytes that fill
// the part reach the writer, which sends the part: whatever offset
// storage holds after a crash, its state is there.
func (u *upload) Write(p []byte) (int, error) {
	if u.done {
		return 0, errors.New("upload already committed or aborted")
	}
	if u.expected.Size > 0 && u.offset+int64(len(p)) > u.expected.Size {
		return 0, &content.MismatchError{Want: u.expected, GotSize: u.offset + int64(len(p))}
	}
	if u.broken {
		return 0, fmt.Errorf("upload %s: an earlier write failed", u.ref)
	}
	if u.sealed && len(p) > 0 {
		return 0, fmt.Errorf("%w: upload %s holds its %d bytes, finished; commit it", errdef.ErrRangeInvalid, u.ref, u.offset)
	}
	if err := u.settle(); err != nil {
		return 0, err
	}
	written := 0
	for len(p) > 0 {
		piece := p
		boundary := false
		if u.part > 0 {
			room := u.w.Size() + u.part - u.offset
			if room <= int64(len(piece)) {
				piece, boundary = p[:max(room, 0)], true
			}
		}
		u.h.Write(piece)
		if boundary {
			if err := u.saveState(u.offset + int64(len(piece))); err != nil {
				u.broken = true
				return written, err
			}
		}
		n, err := u.w.Write(piece)
		written += n
		u.offset += int64(n)
		if err != nil {
			u.broken = true
			return written, fmt.Errorf("upload %s: %w", u.ref, err)
		}
		if u.part > 0 && u.w.Size() > u.durable {
			u.durable = u.w.Size()
		}
		p = p[len(piece):]
	}
	return written, nil
}

// saveState saves the hash state of the first offset bytes, which u.h
// holds now.
func (u *upload) saveState(offset int64) error {
	m, ok := u.h.(encoding.BinaryMarshaler)
	if !ok {
		return nil
	}
	st, err := m.MarshalBinary()
	if err != nil {
		return nil
	}
	if err := u.r.ns.d.PutContent(u.ctx, u.statePath(offset), st); err != nil {
		return fmt.Errorf("upload %s: saving its hash state: %w", u.ref, err)
	}
	return nil
}

// Close saves the hash state and then makes what was written durable, so
// the next request resumes without re-reading. On an object store whose
// request was cut (its context ended), the bytes of the unfinished part
// are dropped instead: storage stays at the last part boundary, whose
// state is saved, and the client's next request continues from there.
func (u *upload) Close() error {
	if u.done || u.w == nil {
		return nil
	}
	w := u.w
	u.w = nil
	if u.broken || (u.part > 0 && u.ctx.Err() != nil) {
		u.offset = u.durable
		if u.part == 0 {
			_ = w.Close() // the bytes stay readable: the next request hashes them again
		}
		return nil
	}
	if u.offset != u.durable {
		if err := u.saveState(u.offset); err != nil && u.part > 0 {
			u.offset = u.durable
			return err
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("upload %s: %w", u.ref, err)
	}
	u.durable = u.offset
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
	if u.w != nil && u.part > 0 && u.offset != u.durable {
		// Finishing the write sends the last part: its state first, so a
		// crash between the two leaves an upload that goes on.
		if err := u.saveState(u.offset); err != nil {
			return ocispec.Descriptor{}, err
		}
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
	} else if u.offset == 0 && !u.sealed {
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
