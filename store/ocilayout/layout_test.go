package ocilayout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store"
)

var ctx = context.Background()

// newLayout creates a layout in a fresh directory.
func newLayout(t *testing.T) *Layout {
	t.Helper()
	l, err := Create(ctx, filepath.Join(t.TempDir(), "layout"))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// put copies img into l and tags its root.
func put(t *testing.T, l *Layout, img *testutil.Image, tag string) {
	t.Helper()
	if err := testutil.CopyGraph(ctx, img, img.Root, l); err != nil {
		t.Fatal(err)
	}
	if err := l.Tag(ctx, img.Root, tag); err != nil {
		t.Fatal(err)
	}
}

// blobFiles lists the files under blobs/ as digests.
func blobFiles(t *testing.T, dir string) []digest.Digest {
	t.Helper()
	var out []digest.Digest
	err := filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		out = append(out, digest.NewDigestFromEncoded(digest.Algorithm(filepath.Base(filepath.Dir(p))), d.Name()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestRoundTripMultiPlatform(t *testing.T) {
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "rt", Platforms: []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}})
	w := newLayout(t)
	put(t, w, img, "v1")

	r, err := Open(ctx, w.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"v1", "", img.Root.Digest.String()} {
		got, err := r.Resolve(ctx, ref)
		if err != nil {
			t.Fatalf("Resolve(%q): %v", ref, err)
		}
		if got.Digest != img.Root.Digest || got.MediaType != content.MediaTypeOCIIndex || got.Size != img.Root.Size {
			t.Errorf("Resolve(%q) = %+v, want the index %s", ref, got, img.Root.Digest)
		}
	}
	// A manifest inside the index resolves by digest, its media type read
	// from its bytes.
	got, err := r.Resolve(ctx, img.Manifests[1].Digest.String())
	if err != nil || got.MediaType != content.MediaTypeOCIManifest || got.Size != img.Manifests[1].Size {
		t.Errorf("Resolve(child manifest) = %+v, %v", got, err)
	}
	// Every blob reads back byte for byte, and nothing else is there.
	var want []digest.Digest
	for d, b := range img.Blobs {
		want = append(want, d)
		if got := testutil.ReadBlob(t, r, content.NewDescriptor("", b)); !bytes.Equal(got, b) {
			t.Errorf("blob %s differs after the round trip", d)
		}
	}
	slices.Sort(want)
	if got := blobFiles(t, w.Dir()); !slices.Equal(got, want) {
		t.Errorf("blobs/ holds %v, want %v", got, want)
	}
	if _, err := os.Stat(filepath.Join(w.Dir(), tmpDirName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary directory is left behind after a clean copy: %v", err)
	}
	// A copy out of the layout into another one gives the same digests.
	out := newLayout(t)
	root, _ := r.Resolve(ctx, "v1")
	if err := testutil.CopyGraph(ctx, r, root, out); err != nil {
		t.Fatal(err)
	}
	if got := blobFiles(t, out.Dir()); !slices.Equal(got, want) {
		t.Errorf("copy out of the layout holds %v, want %v", got, want)
	}
	tags, err := r.Tags(ctx, store.Page{})
	if err != nil || !slices.Equal(tags, []string{"v1"}) {
		t.Errorf("Tags = %v, %v", tags, err)
	}
	var layoutFile ocispec.ImageLayout
	b, _ := os.ReadFile(filepath.Join(w.Dir(), "oci-layout"))
	if json.Unmarshal(b, &layoutFile) != nil || layoutFile.Version != "1.0.0" {
		t.Errorf("oci-layout = %s", b)
	}
}

func TestFetchVerifies(t *testing.T) {
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "fv"})
	l := newLayout(t)
	put(t, l, img, "v1")
	// Corrupt a layer on disk: reading it to the end must fail, not EOF.
	layer := img.Layers[0][0]
	p := l.blobPath(layer.Digest)
	b, _ := os.ReadFile(p)
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	rc, err := l.Fetch(ctx, layer)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); !errors.As(err, new(*content.MismatchError)) {
		t.Errorf("reading a corrupt blob: %v, want a mismatch", err)
	}
	// Copied into another layout, the corrupt blob is refused even though
	// the target trusts the source's verification instead of hashing.
	other := newLayout(t)
	rc3, err := l.Fetch(ctx, layer)
	if err != nil {
		t.Fatal(err)
	}
	defer rc3.Close()
	if _, ok := rc3.(content.Verifying); !ok {
		t.Error("Fetch's reader does not offer its verification downstream")
	}
	if err := other.Push(ctx, layer, rc3); !errors.As(err, new(*content.MismatchError)) || ok(other, layer) {
		t.Errorf("pushing a corrupt blob from a verifying source: %v", err)
	}
	if _, err := os.Stat(other.tmpDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the corrupt copy left temporaries: %v", err)
	}
	if _, err := l.Fetch(ctx, content.NewDescriptor("", []byte("absent"))); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Fetch of a missing blob: %v, want ErrNotFound", err)
	}
	// FetchFrom reads the suffix, unverified.
	rc2, err := l.FetchFrom(ctx, img.Configs[0], 5)
	if err != nil {
		t.Fatal(err)
	}
	defer rc2.Close()
	if got, _ := io.ReadAll(rc2); !bytes.Equal(got, img.Blobs[img.Configs[0].Digest][5:]) {
		t.Errorf("FetchFrom(5) = %q", got)
	}
}

func TestResolveErrors(t *testing.T) {
	a := testutil.NewImage(t, testutil.ImageSpec{Seed: "a"})
	b := testutil.NewImage(t, testutil.ImageSpec{Seed: "b"})
	l := newLayout(t)
	if _, err := l.Resolve(ctx, ""); !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "no image") {
		t.Errorf("Resolve(\"\") of an empty layout: %v", err)
	}
	put(t, l, a, "one")
	put(t, l, b, "two")
	_, err := l.Resolve(ctx, "")
	if err == nil || !strings.Contains(err.Error(), "2 images") || !strings.Contains(err.Error(), "tags: one, two") {
		t.Errorf("Resolve(\"\") with two images: %v, want the tags listed", err)
	}
	_, err = l.Resolve(ctx, "three")
	if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), `"three"`) || !strings.Contains(err.Error(), "one, two") {
		t.Errorf("Resolve(unknown tag): %v", err)
	}
	if _, err := l.Resolve(ctx, digest.FromString("nothing").String()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Resolve(unknown digest): %v", err)
	}
}

func TestCreateAndOpen(t *testing.T) {
	base := t.TempDir()
	t.Run("missing directory", func(t *testing.T) {
		_, err := Open(ctx, filepath.Join(base, "nope"))
		if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "nope") {
			t.Errorf("Open of a missing directory: %v", err)
		}
	})
	t.Run("non-empty directory without oci-layout", func(t *testing.T) {
		dir := filepath.Join(base, "stuff")
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
		_, err := Create(ctx, dir)
		if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "not an OCI image layout") {
			t.Errorf("Create in a foreign directory: %v", err)
		}
		if _, err := Open(ctx, dir); err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("Open of a foreign directory: %v", err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(b) != "mine" {
			t.Error("Create touched a foreign directory")
		}
	})
	t.Run("a file", func(t *testing.T) {
		p := filepath.Join(base, "file")
		os.WriteFile(p, nil, 0o644)
		if _, err := Create(ctx, p); err == nil {
			t.Error("Create over a file succeeded")
		}
	})
	t.Run("empty directory", func(t *testing.T) {
		dir := filepath.Join(base, "empty")
		os.MkdirAll(dir, 0o755)
		l, err := Create(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		names, _ := os.ReadDir(dir)
		var got []string
		for _, n := range names {
			got = append(got, n.Name())
		}
		if !slices.Equal(got, []string{"blobs", "index.json", "oci-layout"}) {
			t.Errorf("new layout holds %v", got)
		}
		ix, _ := os.ReadFile(filepath.Join(dir, "index.json"))
		if string(ix) != `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}` {
			t.Errorf("new index.json = %s", ix)
		}
		// Creating again opens it and keeps what is there.
		img := testutil.NewImage(t, testutil.ImageSpec{Seed: "c"})
		put(t, l, img, "v1")
		l2, err := Create(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		if d, err := l2.Resolve(ctx, "v1"); err != nil || d.Digest != img.Root.Digest {
			t.Errorf("re-created layout lost its tag: %v %v", d, err)
		}
	})
	t.Run("unsupported version", func(t *testing.T) {
		dir := filepath.Join(base, "v2")
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"2.0.0"}`), 0o644)
		if _, err := Open(ctx, dir); err == nil || !strings.Contains(err.Error(), "2.0.0") {
			t.Errorf("Open of a 2.0.0 layout: %v", err)
		}
	})
}

func TestTagMovesAndDedupes(t *testing.T) {
	a := testutil.NewImage(t, testutil.ImageSpec{Seed: "a"})
	b := testutil.NewImage(t, testutil.ImageSpec{Seed: "b"})
	l := newLayout(t)
	put(t, l, a, "v1")
	put(t, l, b, "v1") // retag: the tag moves to b
	entries := readEntries(t, l)
	if len(entries) != 1 || entries[0].Digest != b.Root.Digest || entries[0].Annotations[ocispec.AnnotationRefName] != "v1" {
		t.Fatalf("after retagging v1, index.json has %+v", entries)
	}
	// Untagged roots are recorded once.
	for range 2 {
		if err := l.Tag(ctx, a.Root, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Tag(ctx, b.Root, ""); err != nil { // already a root (tagged)
		t.Fatal(err)
	}
	entries = readEntries(t, l)
	if len(entries) != 2 || entries[1].Digest != a.Root.Digest || entries[1].Annotations != nil {
		t.Fatalf("after adding a twice untagged, index.json has %+v", entries)
	}
	// Tagging the untagged root reuses its entry.
	if err := l.Tag(ctx, a.Root, "v0"); err != nil {
		t.Fatal(err)
	}
	entries = readEntries(t, l)
	if len(entries) != 2 || entries[1].Annotations[ocispec.AnnotationRefName] != "v0" {
		t.Fatalf("after tagging the untagged root, index.json has %+v", entries)
	}
	// A second tag for one digest is a second entry, as skopeo writes it.
	if err := l.Tag(ctx, a.Root, "latest"); err != nil {
		t.Fatal(err)
	}
	if tags, _ := l.Tags(ctx, store.Page{}); !slices.Equal(tags, []string{"latest", "v0", "v1"}) {
		t.Errorf("Tags = %v", tags)
	}
	// Tagging something never pushed fails.
	err := l.Tag(ctx, content.NewDescriptor(content.MediaTypeOCIManifest, []byte("{}")), "x")
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Tag of an absent manifest: %v", err)
	}
}

func TestTagKeepsForeignFields(t *testing.T) {
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "ff"})
	l := newLayout(t)
	if err := testutil.CopyGraph(ctx, img, img.Root, l); err != nil {
		t.Fatal(err)
	}
	foreign := `{"schemaVersion":2,"manifests":[{"mediaType":"` + img.Root.MediaType + `","digest":"` + img.Root.Digest.String() +
		`","size":` + itoa(img.Root.Size) + `,"annotations":{"org.opencontainers.image.created":"2024-01-01T00:00:00Z","org.opencontainers.image.ref.name":"old"},"x-vendor":{"k":1}}],"annotations":{"com.example":"kept"}}`
	if err := os.WriteFile(filepath.Join(l.Dir(), "index.json"), []byte(foreign), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.Tag(ctx, img.Root, "new"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(l.Dir(), "index.json"))
	for _, want := range []string{`"com.example":"kept"`, `"x-vendor":{"k":1}`, `"org.opencontainers.image.created":"2024-01-01T00:00:00Z"`, `"org.opencontainers.image.ref.name":"new"`, `"mediaType":"application/vnd.oci.image.index.v1+json"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("index.json lost %s:\n%s", want, b)
		}
	}
}

func readEntries(t *testing.T, l *Layout) []ocispec.Descriptor {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(l.Dir(), "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ix ocispec.Index
	if err := json.Unmarshal(b, &ix); err != nil {
		t.Fatal(err)
	}
	return ix.Manifests
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
