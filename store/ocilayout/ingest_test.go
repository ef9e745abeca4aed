package ocilayout

import (
	"bytes"
	"context"
	"errors"
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

func ok(l *Layout, d ocispec.Descriptor) bool {
	ok, _ := l.Exists(ctx, d)
	return ok
}

// staged is how many bytes the ingest named by d's digest holds on disk.
func staged(l *Layout, d ocispec.Descriptor) int64 {
	fi, err := os.Stat(l.stagePath(d.Digest.String()))
	if err != nil {
		return 0
	}
	return fi.Size()
}

// Pushes that race for one blob, and pushes of wrong content, leave the
// blob once under blobs/, index.json as it was, and no temporaries.
func TestPushesLeaveNoDebris(t *testing.T) {
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "debris"})
	l := newLayout(t)
	put(t, l, img, "v1")
	before, _ := os.ReadFile(filepath.Join(l.Dir(), "index.json"))
	b, d := bigBlob(3 << 20)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := l.Push(ctx, d, bytes.NewReader(b)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	other, od := bigBlob(1 << 20)
	for _, bad := range [][]byte{append(slices.Clone(other), 1), other[:1000], func() []byte { c := slices.Clone(other); c[9] ^= 1; return c }()} {
		if err := l.Push(ctx, od, bytes.NewReader(bad)); err == nil {
			t.Fatal("a push of wrong content succeeded")
		}
	}
	if got := blobFiles(t, l.Dir()); len(got) != len(img.Blobs)+1 || !slices.Contains(got, d.Digest) {
		t.Errorf("blobs/ holds %d blobs, want the image's %d and the raced one", len(got), len(img.Blobs))
	}
	if _, err := os.Stat(l.tmpDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporaries left behind: %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(l.Dir(), "index.json")); !bytes.Equal(before, after) {
		t.Errorf("index.json changed:\n%s\n%s", before, after)
	}
	// Pushing it again is a no-op that does not read the source.
	if err := l.Push(ctx, d, iotestErr{}); err != nil {
		t.Errorf("push of a present blob: %v", err)
	}
}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errors.New("read (test)") }

// An ingest whose ref another writer holds writes a private file when it
// knows the blob, and both commit; without the blob named it is refused.
func TestIngestBusyRef(t *testing.T) {
	l := newLayout(t)
	b, d := bigBlob(1 << 20)
	ref := d.Digest.String()
	first, err := l.Ingest(ctx, ref, store.IngestOptions{Expected: d})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Write(b[:1000]); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Ingest(ctx, ref, store.IngestOptions{}); err == nil {
		t.Fatal("a second open of a busy ref without a blob named succeeded")
	}
	second, err := l.Ingest(ctx, ref, store.IngestOptions{Expected: d})
	if err != nil || second.Offset() != 0 {
		t.Fatalf("second open: offset %v, %v", second, err)
	}
	if err := store.CopyIngest(ctx, second, d, bytes.NewReader(b)); err != nil || !ok(l, d) {
		t.Fatalf("the private ingest: %v", err)
	}
	if err := store.CopyIngest(ctx, first, d, bytes.NewReader(b[1000:])); err != nil {
		t.Fatalf("the first ingest, after the blob landed: %v", err)
	}
	if got, _ := os.ReadFile(l.blobPath(d.Digest)); !bytes.Equal(got, b) {
		t.Fatal("blob differs")
	}
	if n := staged(l, d); n != 0 {
		t.Errorf("%d staged bytes left after both commits", n)
	}
}

// A staged prefix that turns out wrong is found at the commit and
// discarded; the next ingest of the ref starts from nothing.
func TestIngestCorruptPrefixDiscarded(t *testing.T) {
	l := newLayout(t)
	b, d := bigBlob(1 << 20)
	wrong := slices.Clone(b)
	wrong[10] ^= 0xff
	in, err := l.Ingest(ctx, d.Digest.String(), store.IngestOptions{Expected: d})
	if err != nil {
		t.Fatal(err)
	}
	in.Write(wrong[:len(b)/2])
	in.Close()
	in, err = l.Ingest(ctx, d.Digest.String(), store.IngestOptions{Expected: d})
	if err != nil || in.Offset() != int64(len(b)/2) {
		t.Fatalf("reopened at %d, %v", in.Offset(), err)
	}
	err = store.CopyIngest(ctx, in, d, bytes.NewReader(b[len(b)/2:]))
	if !errors.Is(err, errcode.ErrDigestMismatch) || ok(l, d) {
		t.Fatalf("commit over a corrupt prefix: %v, want a digest mismatch and nothing visible", err)
	}
	if n := staged(l, d); n != 0 {
		t.Fatalf("the corrupt prefix was kept (%d bytes)", n)
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
