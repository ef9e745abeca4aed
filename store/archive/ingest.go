package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/blobio"
	"github.com/hoist-dev/hoist/store"
)

// spoolFile holds the bytes of one ingest between its opens.
type spoolFile struct {
	f    *os.File // created by the first Write
	size int64
	open bool
}

// file returns the spool file, creating it beside the archive.
func (sp *spoolFile) file(w *Writer) (*os.File, error) {
	if sp.f == nil {
		f, err := os.CreateTemp(filepath.Dir(w.path), "."+filepath.Base(w.path)+".spool-*.tmp")
		if err != nil {
			return nil, fmt.Errorf("ingest into docker archive %s: %w", w.path, err)
		}
		sp.f = f
	}
	return sp.f, nil
}

// Ingest opens the blob ingest ref (store.Ingester). A tar is written in
// order and an entry needs its size up front, so the bytes written go to
// a spool file beside FILE (.FILE.spool-*.tmp), kept by ref for the life
// of the Writer: an Ingest of the same ref resumes it, Commit verifies it
// and appends it to the tar as blobs/ALG/HEX, and Close or Abort of the
// Writer removes what is left. ReadFrom with the whole Expected descriptor
// from the start takes Push's way instead, straight into the tar when it
// is free, verified as it streams, and commits there (see
// store.Ingest.Commit).
func (w *Writer) Ingest(ctx context.Context, ref string, opts store.IngestOptions) (store.Ingest, error) {
	ref, err := store.CheckIngest(ctx, ref, opts)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, errClosed(w.path)
	}
	sp := w.ingests[ref]
	switch {
	case sp == nil && opts.Resume:
		return nil, fmt.Errorf("docker archive %s has no ingest %q: %w", w.path, ref, store.ErrNotFound)
	case sp == nil:
		sp = &spoolFile{}
		w.ingests[ref] = sp
	case sp.open:
		return nil, fmt.Errorf("ingest %s into docker archive %s is open already", ref, w.path)
	}
	if e := opts.Expected; e.Digest != "" && e.Size >= 0 && sp.size > e.Size {
		if err := sp.f.Truncate(0); err != nil { // sp.size > 0: f is there
			return nil, err
		}
		sp.size = 0
	}
	sp.open = true
	return &ingest{w: w, ctx: ctx, ref: ref, sp: sp, expected: opts.Expected}, nil
}

// ingest is one open ingest of a Writer.
type ingest struct {
	w         *Writer
	ctx       context.Context
	ref       string
	sp        *spoolFile
	expected  ocispec.Descriptor
	committed *ocispec.Descriptor // what ReadFrom put into the tar
	done      bool
}

var errIngestDone = errors.New("the ingest was already committed or aborted")

func (in *ingest) Ref() string { return in.ref }

func (in *ingest) Offset() int64 {
	if in.committed != nil {
		return in.committed.Size
	}
	return in.sp.size
}

// Write appends p to the spool file.
func (in *ingest) Write(p []byte) (int, error) {
	if in.done || in.committed != nil {
		return 0, errIngestDone
	}
	if err := in.ctx.Err(); err != nil {
		return 0, err
	}
	if e := in.expected; e.Digest != "" && e.Size >= 0 && in.sp.size+int64(len(p)) > e.Size {
		return 0, &content.MismatchError{Want: e, GotSize: in.sp.size + int64(len(p))}
	}
	f, err := in.sp.file(in.w)
	if err != nil {
		return 0, err
	}
	n, err := f.WriteAt(p, in.sp.size)
	in.sp.size += int64(n)
	return n, err
}

// ReadFrom sends a whole expected blob the way Push does; anything else
// goes to the spool file.
func (in *ingest) ReadFrom(r io.Reader) (int64, error) {
	if in.done || in.committed != nil {
		return 0, errIngestDone
	}
	e := in.expected
	if in.sp.size > 0 || e.Digest == "" || e.Size < 0 || content.KindOf(e.MediaType) != content.KindUnknown {
		return blobio.Copy(in, r)
	}
	cr := &blobio.Counter{R: r}
	if err := in.w.pushBlob(in.ctx, e, verifying{cr}); err != nil {
		return cr.N, err
	}
	d := ocispec.Descriptor{MediaType: e.MediaType, Digest: e.Digest, Size: e.Size}
	in.committed = &d
	return e.Size, nil
}

// verifying passes a counted source's own verification through (see
// content.Verifying), so that pushBlob need not hash again.
type verifying struct{ c *blobio.Counter }

func (v verifying) Read(p []byte) (int, error) { return v.c.Read(p) }

func (v verifying) VerifiedAgainst() (ocispec.Descriptor, bool) {
	if s, ok := v.c.R.(content.Verifying); ok {
		return s.VerifiedAgainst()
	}
	return ocispec.Descriptor{}, false
}

// Commit checks the spool file against size and expected and appends it
// to the tar; after a ReadFrom that committed, it checks what that wrote.
func (in *ingest) Commit(ctx context.Context, size int64, expected digest.Digest) (ocispec.Descriptor, error) {
	if in.done {
		return ocispec.Descriptor{}, errIngestDone
	}
	if err := expected.Validate(); err != nil {
		return ocispec.Descriptor{}, err
	}
	want := ocispec.Descriptor{Digest: expected, Size: size}
	if c := in.committed; c != nil {
		in.end(true)
		if size >= 0 && size != c.Size || expected != c.Digest {
			return ocispec.Descriptor{}, &content.MismatchError{Want: want, GotSize: c.Size, GotDigest: c.Digest}
		}
		return *c, nil
	}
	n := in.sp.size
	if size >= 0 && n != size {
		in.Abort(ctx)
		return ocispec.Descriptor{}, &content.MismatchError{Want: want, GotSize: n}
	}
	desc := ocispec.Descriptor{MediaType: in.expected.MediaType, Digest: expected, Size: n}
	f, err := in.sp.file(in.w)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	src := io.NewSectionReader(f, 0, n)
	v, err := content.NewVerifier(blobio.ContextReader(ctx, src), desc)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if isConfig(desc.MediaType) && n <= maxConfig {
		err = in.w.pushConfig(desc, v)
	} else {
		in.w.tarMu.Lock()
		err = in.w.addLocked(desc, v)
		in.w.tarMu.Unlock()
	}
	if err != nil {
		if store.ProvesWrong(err) {
			in.Abort(ctx)
		}
		return ocispec.Descriptor{}, err
	}
	in.end(true)
	return desc, nil
}

// Abort removes the spool file.
func (in *ingest) Abort(ctx context.Context) error {
	in.end(true)
	return nil
}

// Close keeps the spool file for a later Ingest of the same ref.
func (in *ingest) Close() error {
	in.end(false)
	return nil
}

// end closes the ingest, dropping its spool file or keeping it;
// an ingest ends once, and a later end does nothing.
func (in *ingest) end(drop bool) {
	if in.done {
		return
	}
	in.done = true
	w := in.w
	w.mu.Lock()
	defer w.mu.Unlock()
	in.sp.open = false
	if drop && w.ingests[in.ref] == in.sp {
		delete(w.ingests, in.ref)
		in.sp.remove()
	}
}

func (sp *spoolFile) remove() {
	if sp.f != nil {
		sp.f.Close()
		os.Remove(sp.f.Name())
	}
}

// dropIngestsLocked removes every ingest's spool file. w.mu is held.
func (w *Writer) dropIngestsLocked() {
	for ref, sp := range w.ingests {
		sp.remove()
		delete(w.ingests, ref)
	}
}
