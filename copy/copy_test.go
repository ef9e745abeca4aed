package copy

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/memory"
)

var ctx = context.Background()

// checkOrder asserts that in dst's write log every manifest comes after the
// blobs and manifests it refers to, and the tag comes last.
func checkOrder(t *testing.T, dst *recorder) {
	t.Helper()
	log := dst.entries()
	pos := map[string]int{}
	for i, e := range log {
		_, d, _ := strings.Cut(e, " ")
		pos[d] = i
	}
	for i, e := range log {
		kind, d, _ := strings.Cut(e, " ")
		switch kind {
		case "manifest":
			m, err := content.Decode("", read(t, dst, digest.Digest(d)))
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range content.Children(m) {
				p, ok := pos[ch.Descriptor.Digest.String()]
				if !ok {
					t.Errorf("manifest %s written without child %s", d, ch.Descriptor.Digest)
					continue
				}
				if p > i {
					t.Errorf("manifest %s written before its child %s", d, ch.Descriptor.Digest)
				}
			}
		case "tag":
			if i != len(log)-1 {
				t.Errorf("tag %s written before the end: %v", d, log)
			}
		}
	}
}

func TestCopyIndexWhole(t *testing.T) {
	src, dst := newMem(t), record(newMem(t))
	root := addIndex(t, src, false, "linux/amd64", "linux/arm64", "linux/arm/v7")
	tag(t, src, root, "v1")
	var mu sync.Mutex
	kinds := map[EventKind]int{}
	c := New(WithEvents(func(e Event) { mu.Lock(); kinds[e.Kind]++; mu.Unlock() }))
	res, err := c.Copy(ctx, src, "v1", dst, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if res.Descriptor.Digest != root.Digest || tagged(dst, "v1") != root.Digest {
		t.Fatalf("root %s, tagged %s; want %s unchanged", res.Descriptor.Digest, tagged(dst, "v1"), root.Digest)
	}
	// 3 configs + 1 shared base layer + 3 platform layers
	if res.Blobs != 7 || res.Transferred+res.Skipped != 7 {
		t.Errorf("result %+v; want 7 blobs", res)
	}
	if kinds[ManifestPushed] != 4 || kinds[Tagged] != 1 || kinds[BlobDone] == 0 || kinds[BlobProgress] == 0 {
		t.Errorf("events %v", kinds)
	}
	checkOrder(t, dst)

	// Copying again transfers nothing: the index is there.
	res, err = New().Copy(ctx, src, "v1", dst, "v2")
	if err != nil || res.Transferred != 0 || tagged(dst, "v2") != root.Digest {
		t.Fatalf("second copy: %+v %v", res, err)
	}
}

func TestCopyPlatforms(t *testing.T) {
	src := newMem(t)
	root := addIndex(t, src, false, "linux/amd64", "linux/arm64", "linux/arm/v7")
	tag(t, src, root, "v1")
	arm64, _ := content.ParsePlatform("linux/arm64")
	amd64, _ := content.ParsePlatform("linux/amd64")

	dst := newMem(t)
	res, err := New(WithPlatforms(arm64)).Copy(ctx, src, "v1", dst, "v1")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := content.Decode("", read(t, dst, res.Descriptor.Digest))
	if m.Kind != content.KindImage || res.Blobs != 3 {
		t.Fatalf("one platform: got a %s with %d blobs; want the arm64 image manifest", m.Kind, res.Blobs)
	}
	if !strings.Contains(string(read(t, dst, m.Image.Config.Digest)), "linux/arm64") {
		t.Errorf("copied the wrong platform")
	}

	rec := record(newMem(t))
	res, err = New(WithPlatforms(arm64, amd64)).Copy(ctx, src, "v1", rec, "v1")
	if err != nil {
		t.Fatal(err)
	}
	m, _ = content.Decode("", read(t, rec, res.Descriptor.Digest))
	if m.Kind != content.KindIndex || len(m.Index.Manifests) != 2 || res.Descriptor.Digest == root.Digest {
		t.Fatalf("two platforms: %+v", m.Index)
	}
	checkOrder(t, rec)

	s390x, _ := content.ParsePlatform("linux/s390x")
	_, err = New(WithPlatforms(s390x)).Copy(ctx, src, "v1", newMem(t), "v1")
	if err == nil || !strings.Contains(err.Error(), "linux/arm/v7") {
		t.Fatalf("missing platform: %v; want the list of platforms", err)
	}
}

func TestCopyInterruptedLeavesNoTag(t *testing.T) {
	src, dst := newMem(t), newMem(t)
	img := addImage(t, src, false, "linux/amd64", "a layer that breaks halfway", "another")
	tag(t, src, img, "v1")
	m, _ := content.Decode("", read(t, src, img.Digest))
	_, err := New().Copy(ctx, failing{src, m.Image.Layers[0].Digest}, "v1", dst, "v1")
	if err == nil || !strings.Contains(err.Error(), "layer "+m.Image.Layers[0].Digest.String()) {
		t.Fatalf("got %v; want an error naming the layer", err)
	}
	if tagged(dst, "v1") != "" || read(t, dst, img.Digest) != nil || read(t, dst, m.Image.Layers[0].Digest) != nil {
		t.Fatal("interrupted copy left the tag, the manifest or the broken layer")
	}
	// What arrived of the broken layer is kept for the next run.
	in, err := dst.Ingest(ctx, m.Image.Layers[0].Digest.String(), store.IngestOptions{Resume: true})
	if err != nil || in.Offset() == 0 {
		t.Fatalf("the broken layer's ingest: %v", err)
	}
	in.Close()
}

func TestCopyFormatOCI(t *testing.T) {
	src := newMem(t)
	root := addIndex(t, src, true, "linux/amd64", "linux/arm64")
	tag(t, src, root, "v1")

	dst := record(newMem(t))
	res, err := New(WithFormat(FormatOCI)).Copy(ctx, src, "v1", dst, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if res.Descriptor.MediaType != content.MediaTypeOCIIndex || res.Descriptor.Digest == root.Digest {
		t.Fatalf("root %+v", res.Descriptor)
	}
	ix, _ := content.Decode("", read(t, dst, res.Descriptor.Digest))
	for _, d := range ix.Index.Manifests {
		m, err := content.Decode("", read(t, dst, d.Digest))
		if err != nil || d.MediaType != content.MediaTypeOCIManifest || m.Descriptor.MediaType != content.MediaTypeOCIManifest {
			t.Fatalf("child %+v: %v", d, err)
		}
		if m.Image.Config.MediaType != content.MediaTypeOCIConfig || m.Image.Layers[0].MediaType != content.MediaTypeOCILayerGzip {
			t.Errorf("child types %s %s", m.Image.Config.MediaType, m.Image.Layers[0].MediaType)
		}
		if d.Platform == nil {
			t.Errorf("platform lost")
		}
	}
	checkOrder(t, dst)

	// An OCI image is left byte for byte.
	oci := addImage(t, src, false, "linux/amd64", "x")
	tag(t, src, oci, "oci")
	res, err = New(WithFormat(FormatOCI)).Copy(ctx, src, "oci", newMem(t), "oci")
	if err != nil || res.Descriptor.Digest != oci.Digest {
		t.Fatalf("OCI image changed: %v %v", res, err)
	}
}

func TestCopyMountsAndCache(t *testing.T) {
	reg := memory.New(memory.WithRegistry("reg.example"))
	open := func(name string) *memory.Repository {
		r, err := reg.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a := open("team/a")
	img := addImage(t, a, false, "linux/amd64", "shared layer")
	tag(t, a, img, "v1")

	// Same registry: the blobs are mounted from the source repository.
	b := &mounter{memRepo: open("team/b")}
	res, err := New().Copy(ctx, a, "v1", b, "v1")
	if err != nil || res.Mounted != 2 || res.Transferred != 0 || b.mounts[0] != "team/a" {
		t.Fatalf("%+v %v, mounts %v", res, err, b.mounts)
	}

	// The cache, saved and reopened, lets a copy from elsewhere mount from
	// where the blob was seen.
	path := filepath.Join(t.TempDir(), "cache.json")
	cache, err := OpenBlobCache(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(WithBlobCache(cache)).Copy(ctx, a, "v1", &mounter{memRepo: open("team/c")}, "v1"); err != nil {
		t.Fatal(err)
	}
	if err := cache.Save(); err != nil {
		t.Fatal(err)
	}
	cache2, err := OpenBlobCache(path)
	if err != nil {
		t.Fatal(err)
	}
	other := repo(t, "other.example", "team/a") // another registry, the same content
	tag(t, other, addImage(t, other, false, "linux/amd64", "shared layer"), "v1")
	d := &mounter{memRepo: open("team/d")}
	res, err = New(WithBlobCache(cache2)).Copy(ctx, other, "v1", d, "v1")
	if err != nil || res.Mounted != 2 || res.Transferred != 0 {
		t.Fatalf("via cache: %+v %v", res, err)
	}
}

// stage leaves prefix in dst's ingest of layer, as an interrupted copy
// does.
func stage(t *testing.T, dst store.Ingester, layer ocispec.Descriptor, prefix []byte) {
	t.Helper()
	in, err := dst.Ingest(ctx, layer.Digest.String(), store.IngestOptions{Expected: layer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Write(prefix); err != nil {
		t.Fatal(err)
	}
	in.Close()
}

// oneLayer returns a source holding a one-layer image tagged v1, and its
// layer.
func oneLayer(t *testing.T) (*memory.Repository, ocispec.Descriptor) {
	src := newMem(t)
	img := addImage(t, src, false, "linux/amd64", strings.Repeat("layer bytes ", 1000))
	tag(t, src, img, "v1")
	m, _ := content.Decode("", read(t, src, img.Digest))
	return src, m.Image.Layers[0]
}

// A blob an interrupted copy left in the target's ingest is resumed from
// where it stopped, by the digest-named ingest.
func TestCopyResumesPartial(t *testing.T) {
	src, layer := oneLayer(t)
	dst := newMem(t)
	stage(t, dst, layer, read(t, src, layer.Digest)[:5000])
	var started []int64
	var mu sync.Mutex
	_, err := New(WithEvents(func(e Event) {
		if e.Kind == BlobStarted && e.Descriptor.Digest == layer.Digest {
			mu.Lock()
			started = append(started, e.Bytes)
			mu.Unlock()
		}
	})).Copy(ctx, src, "v1", dst, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(started) != 1 || started[0] != 5000 {
		t.Fatalf("layer started at %v; want one resume at 5000", started)
	}
}

// A staged prefix that is wrong fails its commit; the second try starts
// over and the copy succeeds.
func TestCopyRestartsAfterBadPartial(t *testing.T) {
	src, layer := oneLayer(t)
	dst := newMem(t)
	stage(t, dst, layer, bytes.Repeat([]byte("x"), 5000))
	if _, err := New().Copy(ctx, src, "v1", dst, "v1"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(read(t, dst, layer.Digest), read(t, src, layer.Digest)) {
		t.Fatal("the layer differs")
	}
}

func TestCopyAllSharesBlobs(t *testing.T) {
	src, dst := newMem(t), record(newMem(t))
	for i := range 12 {
		d := addImage(t, src, false, "linux/amd64", "common base", "tag layer "+string(rune('a'+i)))
		tag(t, src, d, "t"+string(rune('a'+i)))
	}
	res, err := New(WithConcurrency(3)).CopyAll(ctx, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	pushes := map[string]int{}
	for _, e := range dst.entries() {
		pushes[e]++
	}
	for e, n := range pushes {
		if n > 1 && !strings.HasPrefix(e, "tag") {
			t.Errorf("%s written %d times", e, n)
		}
	}
	tags, _ := dst.Tags(ctx, store.Page{})
	if len(res) != 12 || len(tags) != 12 {
		t.Fatalf("%d results, %d tags", len(res), len(tags))
	}
}

func TestCopyErrors(t *testing.T) {
	src := newMem(t)
	_, err := New().Copy(ctx, src, "missing", newMem(t), "x")
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("got %v", err)
	}
	_, err = New().CopyAll(ctx, noTags{src}, newMem(t))
	if err == nil || !strings.Contains(err.Error(), "cannot list its tags") {
		t.Fatalf("got %v", err)
	}
}

// noTags is a source that cannot list its tags.
type noTags struct{ s store.Reader }

func (m noTags) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	return m.s.Resolve(ctx, ref)
}
func (m noTags) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	return m.s.Fetch(ctx, d)
}

// tagPusher stores and tags the root in one step, as a registry does, and
// fails the test if the engine tags it again.
type tagPusher struct {
	*recorder
	t *testing.T
}

func (m tagPusher) Tag(ctx context.Context, d ocispec.Descriptor, tag string) error {
	m.t.Error("Tag called although the root was pushed with its tag")
	return nil
}

func (m tagPusher) PushTagged(ctx context.Context, d ocispec.Descriptor, r io.Reader, tag string) error {
	if err := m.recorder.Push(ctx, d, r); err != nil {
		return err
	}
	return m.recorder.Tag(ctx, d, tag)
}

func TestCopyPushTagged(t *testing.T) {
	src, dst := newMem(t), record(newMem(t))
	root := addIndex(t, src, false, "linux/amd64", "linux/arm64")
	tag(t, src, root, "v1")
	if _, err := New().Copy(ctx, src, "v1", tagPusher{dst, t}, "v1"); err != nil {
		t.Fatal(err)
	}
	checkOrder(t, dst)
	if tagged(dst, "v1") != root.Digest {
		t.Fatal("not tagged")
	}
}
