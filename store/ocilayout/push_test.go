package ocilayout

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store"
)

// bigBlob is a layer-sized blob of deterministic bytes.
func bigBlob(n int) ([]byte, ocispec.Descriptor) {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>9)
	}
	return b, content.NewDescriptor(content.MediaTypeOCILayerGzip, b)
}

// cutReader yields the first n bytes of b, then fails as a dropped
// connection would.
type cutReader struct {
	r io.Reader
}

var errCut = errors.New("connection reset (test)")

func cut(b []byte, n int) io.Reader {
	return &cutReader{bytes.NewReader(b[:n])}
}

func (c *cutReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		return n, errCut
	}
	return n, err
}

func TestConcurrentPushSameBlob(t *testing.T) {
	l := newLayout(t)
	b, d := bigBlob(3 << 20)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = l.Push(ctx, d, bytes.NewReader(b)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("push %d: %v", i, err)
		}
	}
	got, err := os.ReadFile(l.blobPath(d.Digest))
	if err != nil || !bytes.Equal(got, b) {
		t.Fatalf("blob after concurrent pushes: %d bytes, %v", len(got), err)
	}
	if files := blobFiles(t, l.Dir()); len(files) != 1 {
		t.Errorf("blobs/ holds %v", files)
	}
	if _, err := os.Stat(l.tmpDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporaries left behind: %v", err)
	}
	// Pushing it again is a no-op that does not read the source.
	if err := l.Push(ctx, d, cut(nil, 0)); err != nil {
		t.Errorf("push of a present blob: %v", err)
	}
}

func TestPushBadContentLeavesNothing(t *testing.T) {
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "bad"})
	l := newLayout(t)
	put(t, l, img, "v1")
	before, _ := os.ReadFile(filepath.Join(l.Dir(), "index.json"))
	blobsBefore := blobFiles(t, l.Dir())

	good, d := bigBlob(1 << 20)
	wrong := slices.Clone(good)
	wrong[100] ^= 1
	short := good[:len(good)-1]
	long := append(slices.Clone(good), 0)
	for _, tc := range []struct {
		name   string
		data   []byte
		want   error
		staged int64 // a short stream is a resumable prefix
	}{
		{"wrong byte", wrong, errcode.ErrDigestMismatch, 0},
		{"long", long, errcode.ErrSizeMismatch, 0},
		{"short", short, errcode.ErrSizeMismatch, int64(len(short))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := l.Push(ctx, d, bytes.NewReader(tc.data))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Push: %v, want %v", err, tc.want)
			}
			if got := blobFiles(t, l.Dir()); !slices.Equal(got, blobsBefore) {
				t.Errorf("blobs/ changed: %v", got)
			}
			if n, _ := l.Partial(ctx, d); n != tc.staged {
				t.Errorf("a rejected blob left %d staged bytes, want %d", n, tc.staged)
			}
			if ok, _ := l.Exists(ctx, d); ok {
				t.Error("a rejected blob exists")
			}
		})
	}
	// The copy that pushed it fails, so nothing is tagged either.
	if err := l.Tag(ctx, d, "broken"); err == nil {
		t.Error("tagging a rejected blob succeeded")
	}
	after, _ := os.ReadFile(filepath.Join(l.Dir(), "index.json"))
	if !bytes.Equal(before, after) {
		t.Errorf("index.json changed:\n%s\n%s", before, after)
	}
}

func TestPushManifestBeforeChildrenRefused(t *testing.T) {
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "order", Platforms: []string{"linux/amd64", "linux/arm64"}})
	l := newLayout(t)
	m := img.Manifests[0]
	err := l.Push(ctx, m, bytes.NewReader(img.Blobs[m.Digest]))
	if !errors.Is(err, store.ErrNotFound) || ok(l, m) {
		t.Fatalf("manifest pushed before its config and layers: %v", err)
	}
	// With its blobs it goes in; the index still waits for the other manifest.
	for _, d := range append([]ocispec.Descriptor{img.Configs[0]}, img.Layers[0]...) {
		if err := l.Push(ctx, d, bytes.NewReader(img.Blobs[d.Digest])); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Push(ctx, m, bytes.NewReader(img.Blobs[m.Digest])); err != nil {
		t.Fatal(err)
	}
	if err := l.Push(ctx, img.Root, bytes.NewReader(img.Blobs[img.Root.Digest])); !errors.Is(err, store.ErrNotFound) || ok(l, img.Root) {
		t.Fatalf("index pushed before its second manifest: %v", err)
	}
}

func ok(l *Layout, d ocispec.Descriptor) bool {
	ok, _ := l.Exists(ctx, d)
	return ok
}

func TestResumeFromPartial(t *testing.T) {
	l := newLayout(t)
	b, d := bigBlob(2<<20 + 12345)
	half := len(b) / 2
	if err := l.Push(ctx, d, cut(b, half)); !errors.Is(err, errCut) {
		t.Fatalf("interrupted push: %v", err)
	}
	if ok(l, d) {
		t.Fatal("an interrupted blob is visible")
	}
	n, err := l.Partial(ctx, d)
	if err != nil || n != int64(half) {
		t.Fatalf("Partial = %d, %v; want %d", n, err, half)
	}
	// A second interruption grows the partial.
	more := half + 1000
	if err := l.PushFrom(ctx, d, n, cut(b[half:], more-half)); !errors.Is(err, errCut) {
		t.Fatalf("second interrupted push: %v", err)
	}
	if n, _ = l.Partial(ctx, d); n != int64(more) {
		t.Fatalf("Partial after the second cut = %d, want %d", n, more)
	}
	if err := l.PushFrom(ctx, d, n, bytes.NewReader(b[n:])); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(l.blobPath(d.Digest))
	if !bytes.Equal(got, b) {
		t.Fatal("resumed blob differs")
	}
	if n, _ := l.Partial(ctx, d); n != 0 {
		t.Errorf("staged bytes left after completion: %d", n)
	}
}

func TestResumeCorruptPartialDiscarded(t *testing.T) {
	l := newLayout(t)
	b, d := bigBlob(1 << 20)
	half := len(b) / 2
	wrong := slices.Clone(b)
	wrong[10] ^= 0xff
	if err := l.Push(ctx, d, cut(wrong, half)); !errors.Is(err, errCut) {
		t.Fatal(err)
	}
	n, _ := l.Partial(ctx, d)
	err := l.PushFrom(ctx, d, n, bytes.NewReader(b[n:]))
	if !errors.Is(err, errcode.ErrDigestMismatch) {
		t.Fatalf("PushFrom over a corrupt prefix: %v, want a digest mismatch", err)
	}
	if ok(l, d) || len(blobFiles(t, l.Dir())) != 0 {
		t.Fatal("a corrupt resumed blob became visible")
	}
	if n, _ := l.Partial(ctx, d); n != 0 {
		t.Fatalf("the corrupt partial was kept (%d bytes)", n)
	}
	// Starting over works.
	if err := l.Push(ctx, d, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
}

func TestResumeShrunkPartial(t *testing.T) {
	l := newLayout(t)
	b, d := bigBlob(1 << 20)
	if err := l.Push(ctx, d, cut(b, 1000)); !errors.Is(err, errCut) {
		t.Fatal(err)
	}
	// The caller believes more is staged than there is.
	err := l.PushFrom(ctx, d, 5000, bytes.NewReader(b[5000:]))
	if err == nil || ok(l, d) {
		t.Fatalf("PushFrom past the staged bytes: %v", err)
	}
	if n, _ := l.Partial(ctx, d); n != 0 {
		t.Errorf("the short partial was kept (%d bytes)", n)
	}
	// A caller that asks for less than is staged gets the prefix cut back.
	if err := l.Push(ctx, d, cut(b, 4000)); !errors.Is(err, errCut) {
		t.Fatal(err)
	}
	if err := l.PushFrom(ctx, d, 3000, bytes.NewReader(b[3000:])); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(l.blobPath(d.Digest)); !bytes.Equal(got, b) {
		t.Fatal("blob differs")
	}
}

func TestPushCancelled(t *testing.T) {
	l := newLayout(t)
	b, d := bigBlob(1 << 20)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.Push(cctx, d, bytes.NewReader(b)); err == nil || ok(l, d) {
		t.Fatalf("Push with a cancelled context: %v", err)
	}
}
