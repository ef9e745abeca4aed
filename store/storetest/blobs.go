package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/store"
)

// An image and (where the store holds them) an index of two more go in
// children first and read back byte for byte, by tag and by range.
func testImageRoundTrip(t *testing.T, s Store) {
	w := s.New(t)
	img := newImage("round trip", 1<<20+7, 3000)
	pushImage(t, w, img, s.tag())
	for _, b := range append(img.blobs(), img.manifest) {
		if !exists(t, w, b.desc) {
			t.Errorf("Exists(%s) is false after its push", b.desc.Digest)
		}
	}
	a, b := newImage("platform a", 5000), newImage("platform b", 6000)
	ix := newIndex(a, b)
	if !s.ImagesOnly {
		pushImage(t, w, a, "a")
		pushImage(t, w, b, "b")
		pushIndex(t, w, ix, "index")
	}
	r := s.read(t, w)
	checkImage(t, r, img, s.name(s.tag()))
	if !s.ImagesOnly {
		got, err := r.Resolve(ctx, s.name("index"))
		if err != nil || got.Digest != ix.desc.Digest || got.MediaType != content.MediaTypeOCIIndex {
			t.Fatalf("resolve index = %+v, %v; want %s", got, err, ix.desc.Digest)
		}
		if !bytes.Equal(fetch(t, r, ix.desc), ix.data) {
			t.Error("the index reads back different bytes")
		}
		checkImage(t, r, a, s.name("a"))
	}
	// A blob known only by digest and size is a blob (store.Reader.Fetch).
	l := img.layers[0]
	bare := l.desc
	bare.MediaType = ""
	if !bytes.Equal(fetch(t, r, bare), l.data) {
		t.Error("a layer fetched without its media type reads back different bytes")
	}
	if rr, ok := r.(store.RangeReader); ok {
		rc, err := rr.FetchFrom(ctx, l.desc, 1000)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, l.data[1000:]) {
			t.Errorf("FetchFrom(1000): %d bytes, %v; want the %d after the first 1000", len(got), err, len(l.data)-1000)
		}
	}
}

// Bytes that do not match their descriptor are refused with the
// matching error and leave nothing visible.
func testWrongContent(t *testing.T, s Store) {
	w := s.New(t)
	good := newBlob(content.MediaTypeOCILayerGzip, randomBytes("wrong content", 1<<20))
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"one byte changed", flip(good.data), errdef.ErrDigestMismatch},
		{"one byte more", append(bytes.Clone(good.data), 0), errdef.ErrSizeMismatch},
		{"one byte less", good.data[:len(good.data)-1], errdef.ErrSizeMismatch},
	} {
		err := w.Push(ctx, good.desc, bytes.NewReader(tc.data))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Push = %v, want an error matching %v", tc.name, err, tc.want)
		}
		if exists(t, w, good.desc) {
			t.Fatalf("%s: the refused blob exists", tc.name)
		}
	}
	pushImage(t, w, newImage("wrong content, image", 100), s.tag())
	absent(t, s.read(t, w), good.desc)
}

// A manifest is refused before its config and layers, an index before
// its manifests; both go in once their children are there.
func testChildrenFirst(t *testing.T, s Store) {
	w := s.New(t)
	img, other := newImage("children first", 2000, 3000), newImage("children first, other", 4000)
	err := w.Push(ctx, img.manifest.desc, bytes.NewReader(img.manifest.data))
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a manifest pushed before its children: %v, want an error matching store.ErrNotFound", err)
	}
	if exists(t, w, img.manifest.desc) {
		t.Fatal("the manifest pushed before its children exists")
	}
	pushImage(t, w, img, s.tag())
	ix := newIndex(img, other)
	if !s.ImagesOnly {
		err := w.Push(ctx, ix.desc, bytes.NewReader(ix.data))
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an index pushed before one of its manifests: %v, want an error matching store.ErrNotFound", err)
		}
		if exists(t, w, ix.desc) {
			t.Fatal("the index pushed before its manifests exists")
		}
		pushImage(t, w, other, "other")
		pushIndex(t, w, ix, "index")
	}
	r := s.read(t, w)
	checkImage(t, r, img, s.name(s.tag()))
	if !s.ImagesOnly {
		if got, err := r.Resolve(ctx, s.name("index")); err != nil || got.Digest != ix.desc.Digest {
			t.Errorf("resolve index = %v, %v", got.Digest, err)
		}
	}
}

// What the store lacks is an error matching store.ErrNotFound.
func testNotFound(t *testing.T, s Store) {
	w := s.New(t)
	pushImage(t, w, newImage("not found", 100), s.tag())
	r := s.read(t, w)
	if _, err := r.Resolve(ctx, s.name("absent")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("resolve of an absent tag: %v, want an error matching store.ErrNotFound", err)
	}
	never := newImage("never pushed", 100)
	if _, err := r.Resolve(ctx, never.manifest.desc.Digest.String()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("resolve of an absent digest: %v, want an error matching store.ErrNotFound", err)
	}
	absent(t, r, never.layers[0].desc)
	absent(t, r, never.manifest.desc)
	if st, ok := statter(w, r); ok {
		if _, err := st.Stat(ctx, never.layers[0].desc.Digest); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("stat of an absent blob: %v, want an error matching store.ErrNotFound", err)
		}
	}
}

// Many writers at once, of one blob and of different ones, all succeed,
// and the store holds each blob once and whole.
func testConcurrent(t *testing.T, s Store) {
	w := s.New(t)
	same := newBlob(content.MediaTypeOCILayerGzip, randomBytes("the same", 2<<20))
	layers := []blob{same}
	for i := range 8 {
		layers = append(layers, newBlob(content.MediaTypeOCILayerGzip, randomBytes(fmt.Sprint("distinct ", i), 256<<10+i)))
	}
	parallel(t, 16, func(i int) error {
		b := same
		if i%2 == 1 {
			b = layers[i/2+1]
		}
		if err := w.Push(ctx, b.desc, bytes.NewReader(b.data)); err != nil {
			return fmt.Errorf("push %s: %w", b.desc.Digest, err)
		}
		return nil
	})
	img := imageOf("concurrent", layers)
	pushImage(t, w, img, s.tag())
	checkImage(t, s.read(t, w), img, s.name(s.tag()))
}

// statter returns whichever of w and r is a store.Statter, r first.
func statter(w store.Writer, r store.Reader) (store.Statter, bool) {
	if st, ok := r.(store.Statter); ok {
		return st, true
	}
	st, ok := w.(store.Statter)
	return st, ok
}
