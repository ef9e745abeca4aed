package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/store"
)

// ingester returns the store to write, as a store.Ingester, or skips the
// test for a store that has no ingests (a docker archive: a tar is
// written once, in order).
func ingester(t *testing.T, s Store) (store.Writer, store.Ingester) {
	t.Helper()
	w := s.New(t)
	ing, ok := w.(store.Ingester)
	if !ok {
		t.Skipf("%T is not a store.Ingester", w)
	}
	return w, ing
}

// write appends b to in, in pieces of n bytes.
func write(t *testing.T, in store.Ingest, b []byte, n int) {
	t.Helper()
	for len(b) > 0 {
		k := min(n, len(b))
		if _, err := in.Write(b[:k]); err != nil {
			t.Fatalf("ingest %s: write at %d: %v", in.Ref(), in.Offset(), err)
		}
		b = b[k:]
	}
}

func open(t *testing.T, ing store.Ingester, ref string, opts store.IngestOptions) store.Ingest {
	t.Helper()
	in, err := ing.Ingest(ctx, ref, opts)
	if err != nil {
		t.Fatalf("ingest %q: %v", ref, err)
	}
	return in
}

// A blob whose digest is named only at the commit, as a v2 upload names
// it, and one whose descriptor is known up front, both become content.
func testIngest(t *testing.T, s Store) {
	w, ing := ingester(t, s)
	late := newBlob(content.MediaTypeOCILayerGzip, randomBytes("digest at commit", 300_000))
	in := open(t, ing, "", store.IngestOptions{})
	if in.Ref() == "" || in.Offset() != 0 {
		t.Fatalf("a new ingest has ref %q and offset %d", in.Ref(), in.Offset())
	}
	write(t, in, late.data, 64<<10)
	if in.Offset() != late.desc.Size {
		t.Errorf("offset after writing %d bytes: %d", late.desc.Size, in.Offset())
	}
	if exists(t, w, late.desc) {
		t.Fatal("an ingest is visible before its commit")
	}
	got, err := in.Commit(ctx, late.desc.Size, late.desc.Digest)
	if err != nil || got.Digest != late.desc.Digest || got.Size != late.desc.Size {
		t.Fatalf("commit = %+v, %v", got, err)
	}
	if err := in.Close(); err != nil {
		t.Errorf("Close after Commit: %v", err)
	}
	known := newBlob(content.MediaTypeOCILayerGzip, randomBytes("known up front", 200_000))
	in = open(t, ing, "", store.IngestOptions{Expected: known.desc})
	if err := store.CopyIngest(ctx, in, known.desc, bytes.NewReader(known.data)); err != nil {
		t.Fatalf("CopyIngest: %v", err)
	}
	for _, b := range []blob{late, known} {
		if !exists(t, w, b.desc) {
			t.Errorf("%s does not exist after its commit", b.desc.Digest)
		}
	}
	img := imageOf("ingest", []blob{late, known})
	pushImage(t, w, img, s.tag())
	checkImage(t, s.read(t, w), img, s.name(s.tag()))
}

// An ingest closed part way resumes at its offset when opened again by
// its ref, any number of times, and commits whole.
func testIngestResume(t *testing.T, s Store) {
	w, ing := ingester(t, s)
	b := newBlob(content.MediaTypeOCILayerGzip, randomBytes("resume", 700_000))
	ref := b.desc.Digest.String()
	opts := store.IngestOptions{Expected: b.desc}
	if _, err := ing.Ingest(ctx, ref, store.IngestOptions{Expected: b.desc, Resume: true}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("resuming an ingest never opened: %v, want an error matching store.ErrNotFound", err)
	}
	off := 0
	for _, n := range []int{100_000, 250_000} {
		in := open(t, ing, ref, opts)
		if in.Offset() != int64(off) {
			t.Fatalf("reopened ingest at %d, want %d", in.Offset(), off)
		}
		write(t, in, b.data[off:n], 32<<10)
		if err := in.Close(); err != nil {
			t.Fatal(err)
		}
		off = n
		if exists(t, w, b.desc) {
			t.Fatal("a closed ingest is visible")
		}
	}
	in := open(t, ing, ref, store.IngestOptions{Expected: b.desc, Resume: true})
	if in.Offset() != int64(off) {
		t.Fatalf("resumed at %d, want %d", in.Offset(), off)
	}
	if err := store.CopyIngest(ctx, in, b.desc, bytes.NewReader(b.data[off:])); err != nil {
		t.Fatalf("the resumed ingest: %v", err)
	}
	if _, err := ing.Ingest(ctx, ref, store.IngestOptions{Expected: b.desc, Resume: true}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("resuming a committed ingest: %v, want an error matching store.ErrNotFound", err)
	}
	img := imageOf("resume", []blob{b})
	pushImage(t, w, img, s.tag())
	checkImage(t, s.read(t, w), img, s.name(s.tag()))
}

// Commit checks the size and digest it is given; a mismatch discards the
// ingest. Writing past the expected size fails.
func testIngestMismatch(t *testing.T, s Store) {
	w, ing := ingester(t, s)
	b := newBlob(content.MediaTypeOCILayerGzip, randomBytes("mismatch", 100_000))
	for _, tc := range []struct {
		name string
		data []byte
		size int64
		want error
	}{
		{"wrong bytes", flip(b.data), b.desc.Size, errdef.ErrDigestMismatch},
		{"wrong size", b.data, b.desc.Size + 1, errdef.ErrSizeMismatch},
		{"too short", b.data[:1000], b.desc.Size, errdef.ErrSizeMismatch},
	} {
		in := open(t, ing, "", store.IngestOptions{})
		write(t, in, tc.data, 16<<10)
		ref := in.Ref()
		if _, err := in.Commit(ctx, tc.size, b.desc.Digest); !errors.Is(err, tc.want) {
			t.Errorf("%s: Commit = %v, want an error matching %v", tc.name, err, tc.want)
		}
		in.Close()
		if exists(t, w, b.desc) {
			t.Fatalf("%s: the blob exists after a failed commit", tc.name)
		}
		if in, err := ing.Ingest(ctx, ref, store.IngestOptions{Resume: true}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: the ingest was kept after a mismatch (%v)", tc.name, err)
			if in != nil {
				in.Abort(ctx)
			}
		}
	}
	in := open(t, ing, "", store.IngestOptions{Expected: b.desc})
	write(t, in, b.data, 64<<10)
	if _, err := in.Write([]byte{0}); !errors.Is(err, errdef.ErrSizeMismatch) {
		t.Errorf("writing past the expected size: %v, want an error matching errdef.ErrSizeMismatch", err)
	}
	in.Abort(ctx)
}

// An ingest closed without a commit, or aborted, leaves nothing a reader
// could see; an aborted one cannot be resumed.
func testIngestInterrupted(t *testing.T, s Store) {
	w, ing := ingester(t, s)
	b := newBlob(content.MediaTypeOCILayerGzip, randomBytes("interrupted", 500_000))
	in := open(t, ing, b.desc.Digest.String(), store.IngestOptions{Expected: b.desc})
	write(t, in, b.data[:200_000], 50_000)
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	in = open(t, ing, "aborted-"+b.desc.Digest.Encoded()[:12], store.IngestOptions{Expected: b.desc})
	write(t, in, b.data[:300_000], 50_000)
	ref := in.Ref()
	if err := in.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ing.Ingest(ctx, ref, store.IngestOptions{Resume: true}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("resuming an aborted ingest: %v, want an error matching store.ErrNotFound", err)
	}
	if exists(t, w, b.desc) {
		t.Fatal("an interrupted ingest is visible")
	}
	pushImage(t, w, newImage("interrupted, image", 100), s.tag())
	r := s.read(t, w)
	absent(t, r, b.desc)
	if st, ok := statter(w, r); ok {
		if _, err := st.Stat(ctx, b.desc.Digest); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("stat of an interrupted ingest's blob: %v, want an error matching store.ErrNotFound", err)
		}
	}
}

// Ingests of different refs run at once.
func testConcurrentIngests(t *testing.T, s Store) {
	w, ing := ingester(t, s)
	var blobs []blob
	for i := range 8 {
		blobs = append(blobs, newBlob(content.MediaTypeOCILayerGzip, randomBytes(fmt.Sprint("concurrent ingest ", i), 200_000+i)))
	}
	parallel(t, len(blobs), func(i int) error {
		b := blobs[i]
		in, err := ing.Ingest(ctx, "", store.IngestOptions{})
		if err == nil {
			err = store.CopyIngest(ctx, in, b.desc, bytes.NewReader(b.data))
		}
		if err != nil {
			return fmt.Errorf("ingest %s: %w", b.desc.Digest, err)
		}
		return nil
	})
	img := imageOf("concurrent ingests", blobs)
	pushImage(t, w, img, s.tag())
	checkImage(t, s.read(t, w), img, s.name(s.tag()))
}
