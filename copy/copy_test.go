package copy

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
)

var ctx = context.Background()

// checkOrder asserts that in dst's write log every manifest comes after the
// blobs and manifests it refers to, and the tag comes last.
func checkOrder(t *testing.T, dst *memStore) {
	t.Helper()
	pos := map[string]int{}
	for i, e := range dst.log {
		_, d, _ := strings.Cut(e, " ")
		pos[d] = i
	}
	for i, e := range dst.log {
		kind, d, _ := strings.Cut(e, " ")
		switch kind {
		case "manifest":
			m, err := content.Decode("", dst.blobs[digest.Digest(d)])
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range content.Children(m) {
				p, ok := pos[ch.Descriptor.Digest.String()]
				if !ok {
					if _, had := dst.blobs[ch.Descriptor.Digest]; !had {
						t.Errorf("manifest %s written without child %s", d, ch.Descriptor.Digest)
					}
					continue
				}
				if p > i {
					t.Errorf("manifest %s written before its child %s", d, ch.Descriptor.Digest)
				}
			}
		case "tag":
			if i != len(dst.log)-1 {
				t.Errorf("tag %s written before the end: %v", d, dst.log)
			}
		}
	}
}

func TestCopyIndexWhole(t *testing.T) {
	src, dst := newMem(), newMem()
	root := addIndex(t, src, false, "linux/amd64", "linux/arm64", "linux/arm/v7")
	src.tags["v1"] = root
	var mu sync.Mutex
	kinds := map[EventKind]int{}
	c := New(WithEvents(func(e Event) { mu.Lock(); kinds[e.Kind]++; mu.Unlock() }))
	res, err := c.Copy(ctx, src, "v1", dst, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if res.Descriptor.Digest != root.Digest || dst.tags["v1"].Digest != root.Digest {
		t.Fatalf("root %s, tagged %s; want %s unchanged", res.Descriptor.Digest, dst.tags["v1"].Digest, root.Digest)
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
	src.fetches = 0
	res, err = New().Copy(ctx, src, "v1", dst, "v2")
	if err != nil || res.Transferred != 0 || dst.tags["v2"].Digest != root.Digest {
		t.Fatalf("second copy: %+v %v", res, err)
	}
}

func TestCopyPlatforms(t *testing.T) {
	src := newMem()
	root := addIndex(t, src, false, "linux/amd64", "linux/arm64", "linux/arm/v7")
	src.tags["v1"] = root
	arm64, _ := content.ParsePlatform("linux/arm64")
	amd64, _ := content.ParsePlatform("linux/amd64")

	dst := newMem()
	res, err := New(WithPlatforms(arm64)).Copy(ctx, src, "v1", dst, "v1")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := content.Decode("", dst.blobs[res.Descriptor.Digest])
	if m.Kind != content.KindImage || res.Blobs != 3 {
		t.Fatalf("one platform: got a %s with %d blobs; want the arm64 image manifest", m.Kind, res.Blobs)
	}
	if !strings.Contains(string(dst.blobs[m.Image.Config.Digest]), "linux/arm64") {
		t.Errorf("copied the wrong platform")
	}

	dst = newMem()
	res, err = New(WithPlatforms(arm64, amd64)).Copy(ctx, src, "v1", dst, "v1")
	if err != nil {
		t.Fatal(err)
	}
	m, _ = content.Decode("", dst.blobs[res.Descriptor.Digest])
	if m.Kind != content.KindIndex || len(m.Index.Manifests) != 2 || res.Descriptor.Digest == root.Digest {
		t.Fatalf("two platforms: %+v", m.Index)
	}
	checkOrder(t, dst)

	s390x, _ := content.ParsePlatform("linux/s390x")
	_, err = New(WithPlatforms(s390x)).Copy(ctx, src, "v1", newMem(), "v1")
	if err == nil || !strings.Contains(err.Error(), "linux/arm/v7") {
		t.Fatalf("missing platform: %v; want the list of platforms", err)
	}
}

func TestCopyInterruptedLeavesNoTag(t *testing.T) {
	src, dst := newMem(), newMem()
	img := addImage(t, src, false, "linux/amd64", "a layer that breaks halfway", "another")
	src.tags["v1"] = img
	m, _ := content.Decode("", src.blobs[img.Digest])
	src.failOn = m.Image.Layers[0].Digest
	_, err := New().Copy(ctx, src, "v1", dst, "v1")
	if err == nil || !strings.Contains(err.Error(), "layer "+m.Image.Layers[0].Digest.String()) {
		t.Fatalf("got %v; want an error naming the layer", err)
	}
	if len(dst.tags) != 0 || dst.blobs[img.Digest] != nil || dst.blobs[m.Image.Layers[0].Digest] != nil {
		t.Fatalf("interrupted copy left tags %v / the manifest / the broken layer", dst.tags)
	}
}

func TestCopyFormatOCI(t *testing.T) {
	src := newMem()
	root := addIndex(t, src, true, "linux/amd64", "linux/arm64")
	src.tags["v1"] = root

	dst := newMem()
	res, err := New(WithFormat(FormatOCI)).Copy(ctx, src, "v1", dst, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if res.Descriptor.MediaType != content.MediaTypeOCIIndex || res.Descriptor.Digest == root.Digest {
		t.Fatalf("root %+v", res.Descriptor)
	}
	ix, _ := content.Decode("", dst.blobs[res.Descriptor.Digest])
	for _, d := range ix.Index.Manifests {
		m, err := content.Decode("", dst.blobs[d.Digest])
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
	src.tags["oci"] = oci
	res, err = New(WithFormat(FormatOCI)).Copy(ctx, src, "oci", newMem(), "oci")
	if err != nil || res.Descriptor.Digest != oci.Digest {
		t.Fatalf("OCI image changed: %v %v", res, err)
	}
}

func TestCopyMountsAndCache(t *testing.T) {
	reg := &memRegistry{}
	a := reg.repo("team/a")
	img := addImage(t, a, false, "linux/amd64", "shared layer")
	a.tags["v1"] = img

	// Same registry: the blobs are mounted from the source repository.
	b := &memMounter{memStore: reg.repo("team/b")}
	res, err := New().Copy(ctx, locatedMem{a}, "v1", b, "v1")
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
	if _, err := New(WithBlobCache(cache)).Copy(ctx, locatedMem{a}, "v1", &memMounter{memStore: reg.repo("team/c")}, "v1"); err != nil {
		t.Fatal(err)
	}
	if err := cache.Save(); err != nil {
		t.Fatal(err)
	}
	cache2, err := OpenBlobCache(path)
	if err != nil {
		t.Fatal(err)
	}
	other := newMem() // a source on another registry, with the same content
	for d, bts := range a.blobs {
		other.blobs[d] = bts
	}
	other.tags["v1"] = img
	d := &memMounter{memStore: reg.repo("team/d")}
	res, err = New(WithBlobCache(cache2)).Copy(ctx, other, "v1", d, "v1")
	if err != nil || res.Mounted != 2 || res.Transferred != 0 {
		t.Fatalf("via cache: %+v %v", res, err)
	}
}

func TestCopyResumesPartial(t *testing.T) {
	src, dst := newMem(), newMem()
	img := addImage(t, src, false, "linux/amd64", strings.Repeat("layer bytes ", 1000))
	src.tags["v1"] = img
	m, _ := content.Decode("", src.blobs[img.Digest])
	layer := m.Image.Layers[0]
	dst.partial[layer.Digest] = src.blobs[layer.Digest][:5000]
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

func TestCopyAllSharesBlobs(t *testing.T) {
	src, dst := newMem(), newMem()
	for i := range 12 {
		d := addImage(t, src, false, "linux/amd64", "common base", "tag layer "+string(rune('a'+i)))
		tag := "t" + string(rune('a'+i))
		src.tags[tag] = d
		src.tagOrder = append(src.tagOrder, tag)
	}
	res, err := New(WithConcurrency(3)).CopyAll(ctx, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	pushes := map[string]int{}
	for _, e := range dst.log {
		pushes[e]++
	}
	for e, n := range pushes {
		if n > 1 && !strings.HasPrefix(e, "tag") {
			t.Errorf("%s written %d times", e, n)
		}
	}
	if len(res) != 12 || len(dst.tags) != 12 {
		t.Fatalf("%d results, %d tags", len(res), len(dst.tags))
	}
}

func TestCopyErrors(t *testing.T) {
	src := newMem()
	_, err := New().Copy(ctx, src, "missing", newMem(), "x")
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("got %v", err)
	}
	_, err = New().CopyAll(ctx, struct{ *memStoreNoTags }{&memStoreNoTags{src}}, newMem())
	if err == nil || !strings.Contains(err.Error(), "--all-tags") {
		t.Fatalf("got %v", err)
	}
}

// memStoreNoTags hides Tags.
type memStoreNoTags struct{ s *memStore }

func (m *memStoreNoTags) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	return m.s.Resolve(ctx, ref)
}
func (m *memStoreNoTags) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	return m.s.Fetch(ctx, d)
}

// memTagPusher stores and tags the root in one step, as a registry does.
type memTagPusher struct{ *memStore }

func (m memTagPusher) PushTagged(ctx context.Context, d ocispec.Descriptor, r io.Reader, tag string) error {
	if err := m.Push(ctx, d, r); err != nil {
		return err
	}
	return m.memStore.Tag(ctx, d, tag)
}

func (m memTagPusher) Tag(ctx context.Context, d ocispec.Descriptor, tag string) error {
	panic("Tag called although the root was pushed with its tag")
}

func TestCopyPushTagged(t *testing.T) {
	src, dst := newMem(), newMem()
	src.tags["v1"] = addIndex(t, src, false, "linux/amd64", "linux/arm64")
	if _, err := New().Copy(ctx, src, "v1", memTagPusher{dst}, "v1"); err != nil {
		t.Fatal(err)
	}
	checkOrder(t, dst)
	if dst.tags["v1"].Digest != src.tags["v1"].Digest {
		t.Fatal("not tagged")
	}
}
