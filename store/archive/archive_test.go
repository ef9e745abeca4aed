package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
)

var ctx = context.Background()

func mustRef(t *testing.T, s string) reference.Reference {
	t.Helper()
	r, err := reference.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// create starts an archive at path, named ref unless ref is "", which
// the test aborts when it ends.
func create(t *testing.T, path, ref string) *Writer {
	t.Helper()
	var opts []Option
	if ref != "" {
		opts = append(opts, WithReference(mustRef(t, ref)))
	}
	w, err := Create(ctx, path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Abort(ctx) })
	return w
}

// writeImage writes img into a new archive at path named ref and closes it.
func writeImage(t *testing.T, path, ref string, img *testutil.Image) {
	t.Helper()
	finish(t, create(t, path, ref), img)
}

// finish copies img into w, what w already holds skipped, tags it with
// w's reference and closes w.
func finish(t *testing.T, w *Writer, img *testutil.Image) {
	t.Helper()
	if err := testutil.CopyGraph(ctx, img, img.Root, w); err != nil {
		t.Fatal(err)
	}
	if err := w.Tag(ctx, img.Root, ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func open(t *testing.T, path string) *Reader {
	t.Helper()
	r, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// members lists a tar's member names and reads the named ones.
func members(t *testing.T, path string) (names []string, files map[string][]byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files = map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names, files
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		b, _ := io.ReadAll(tr)
		files[h.Name] = b
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec testutil.ImageSpec
	}{
		{"docker gzip", testutil.ImageSpec{Seed: "rt-docker", Docker: true, Layers: 3}},
		{"oci gzip", testutil.ImageSpec{Seed: "rt-oci"}},
		{"oci uncompressed", testutil.ImageSpec{Seed: "rt-plain", Uncompressed: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := testutil.NewImage(t, tc.spec)
			path := filepath.Join(t.TempDir(), "app.tar")
			writeImage(t, path, "example/app:v1", img)

			r := open(t, path)
			for _, ref := range []string{"", "example/app:v1", "docker.io/example/app:v1", img.Root.Digest.String()} {
				d, err := r.Resolve(ctx, ref)
				if err != nil {
					t.Fatalf("Resolve(%q): %v", ref, err)
				}
				if d.Digest != img.Root.Digest || d.MediaType != img.Root.MediaType {
					t.Errorf("Resolve(%q) = %s %s, want the manifest as pushed, %s", ref, d.MediaType, d.Digest, img.Root.Digest)
				}
			}
			if _, err := r.Resolve(ctx, "example/app:v2"); !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "example/app:v1") {
				t.Errorf("Resolve(other tag): %v", err)
			}
			// Same bytes out as in, for every blob.
			for d, b := range img.Blobs {
				if got := testutil.ReadBlob(t, r, content.NewDescriptor("", b)); !bytes.Equal(got, b) {
					t.Errorf("blob %s differs", d)
				}
			}
			// The docker save view of it.
			_, files := members(t, path)
			var items []manifestItem
			if err := json.Unmarshal(files["manifest.json"], &items); err != nil || len(items) != 1 {
				t.Fatalf("manifest.json = %s", files["manifest.json"])
			}
			it := items[0]
			if it.Config != "blobs/sha256/"+img.Configs[0].Digest.Encoded() || !slices.Equal(it.RepoTags, []string{"example/app:v1"}) || len(it.Layers) != len(img.Layers[0]) {
				t.Errorf("manifest.json entry = %+v", it)
			}
			for i, l := range it.Layers {
				if !bytes.Equal(files[l], img.Blobs[img.Layers[0][i].Digest]) {
					t.Errorf("layer file %s is not layer %d as pushed", l, i)
				}
			}
			var repos map[string]map[string]string
			json.Unmarshal(files["repositories"], &repos)
			diffIDs := img.DiffIDs[0]
			if repos["example/app"]["v1"] != diffIDs[len(diffIDs)-1].Encoded() {
				t.Errorf("repositories = %s", files["repositories"])
			}
		})
	}
}

func TestWriterRefusesIndexEarly(t *testing.T) {
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "multi", Platforms: []string{"linux/amd64", "linux/arm64"}})
	path := filepath.Join(t.TempDir(), "multi.tar")
	w := create(t, path, "")
	// The copy engine asks about the root first: it learns before moving
	// a single layer.
	// Its hint names the library option, which the CLI maps to --platform.
	_, err := w.Exists(ctx, img.Root)
	var oh *errdef.OptionHint
	if !errors.As(err, &oh) || oh.Option != "copy.WithPlatforms" {
		t.Fatalf("Exists(index) = %v, want an error pointing at copy.WithPlatforms", err)
	}
	if err := w.Push(ctx, img.Root, bytes.NewReader(img.Blobs[img.Root.Digest])); !errors.As(err, &oh) {
		t.Fatalf("Push(index) = %v", err)
	}
	// One platform of it is fine.
	if err := testutil.CopyGraph(ctx, img, img.Manifests[1], w); err != nil {
		t.Fatal(err)
	}
	if err := w.Tag(ctx, img.Manifests[1], ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if d, err := open(t, path).Resolve(ctx, ""); err != nil || d.Digest != img.Manifests[1].Digest {
		t.Errorf("untagged image resolves to %v, %v", d, err)
	}
}

func TestWriterBadBlobIsCutOut(t *testing.T) {
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "cut", Layers: 3, LayerBytes: 300 << 10})
	path := filepath.Join(t.TempDir(), "cut.tar")
	w := create(t, path, "cut:v1")
	l0, l1 := img.Layers[0][0], img.Layers[0][1]
	if err := w.Push(ctx, l0, bytes.NewReader(img.Blobs[l0.Digest])); err != nil {
		t.Fatal(err)
	}
	bad := slices.Clone(img.Blobs[l1.Digest])
	bad[len(bad)-1] ^= 1
	if err := w.Push(ctx, l1, bytes.NewReader(bad)); !errors.Is(err, errcode.ErrDigestMismatch) {
		t.Fatalf("Push of a corrupt layer: %v", err)
	}
	if err := w.Push(ctx, l1, bytes.NewReader(bad[:100])); !errors.Is(err, errcode.ErrSizeMismatch) {
		t.Fatalf("Push of a short layer: %v", err)
	}
	// A source that verifies itself is trusted not to need hashing again,
	// and its own mismatch still keeps the layer out.
	v, _ := content.NewVerifier(bytes.NewReader(bad), l1)
	if err := w.Push(ctx, l1, v); !errors.Is(err, errcode.ErrDigestMismatch) {
		t.Fatalf("Push of a corrupt layer from a verifying source: %v", err)
	}
	if ok, _ := w.Exists(ctx, l1); ok {
		t.Fatal("a rejected layer exists")
	}
	// The manifest cannot go in before its layers.
	if err := w.Push(ctx, img.Root, bytes.NewReader(img.Blobs[img.Root.Digest])); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("manifest before its layers: %v", err)
	}
	// The rest of the copy succeeds; the archive has one entry per blob.
	finish(t, w, img)
	names, files := members(t, path)
	if !bytes.Equal(files["blobs/sha256/"+l1.Digest.Encoded()], img.Blobs[l1.Digest]) {
		t.Error("layer 1 in the archive is not the good copy")
	}
	want := []string{"blobs/", "blobs/sha256/"}
	for _, d := range []ocispec.Descriptor{l0, img.Configs[0], l1, img.Layers[0][2], img.Root} {
		want = append(want, "blobs/sha256/"+d.Digest.Encoded())
	}
	want = append(want, "manifest.json", "repositories", "index.json", "oci-layout")
	slices.Sort(want)
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Errorf("archive members:\n%v\nwant\n%v", names, want)
	}
	r := open(t, path)
	if d, err := r.Resolve(ctx, "cut:v1"); err != nil || d.Digest != img.Root.Digest {
		t.Errorf("Resolve(cut:v1) = %v, %v", d, err)
	}
}

func TestWriterLeavesNothingUnlessClosed(t *testing.T) {
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "gone"})
	dir := t.TempDir()
	path := filepath.Join(dir, "out.tar")
	os.WriteFile(path, []byte("the user's old file"), 0o644)
	for _, finish := range []string{"discard", "close untagged"} {
		t.Run(finish, func(t *testing.T) {
			w, err := Create(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			if err := testutil.CopyGraph(ctx, img, img.Root, w); err != nil {
				t.Fatal(err)
			}
			if finish == "discard" {
				w.Abort(ctx)
			} else if err := w.Close(); err == nil || !strings.Contains(err.Error(), "not written") {
				t.Errorf("Close with nothing tagged: %v", err)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("files left beside the target: %v", entries)
			}
			if b, _ := os.ReadFile(path); string(b) != "the user's old file" {
				t.Error("the target was touched")
			}
			if err := w.Push(ctx, img.Configs[0], bytes.NewReader(img.Blobs[img.Configs[0].Digest])); err == nil {
				t.Error("Push after the archive was abandoned succeeded")
			}
		})
	}
}

func TestTagsMoveAndNeedAName(t *testing.T) {
	a := testutil.NewImage(t, testutil.ImageSpec{Seed: "ta"})
	b := testutil.NewImage(t, testutil.ImageSpec{Seed: "tb"})
	path := filepath.Join(t.TempDir(), "two.tar")
	w := create(t, path, "localhost:5000/team/app")
	for _, img := range []*testutil.Image{a, b} {
		if err := testutil.CopyGraph(ctx, img, img.Root, w); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range []struct {
		img *testutil.Image
		tag string
	}{{a, "v1"}, {a, "v2"}, {b, "v2"}, {b, ""}} {
		if err := w.Tag(ctx, step.img.Root, step.tag); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := open(t, path)
	got := r.Images()
	if len(got) != 2 || !slices.Equal(got[0].RepoTags, []string{"localhost:5000/team/app:v1"}) ||
		!slices.Equal(got[1].RepoTags, []string{"localhost:5000/team/app:v2", "localhost:5000/team/app:latest"}) {
		t.Errorf("images = %+v", got)
	}
	if _, err := r.Resolve(ctx, ""); err == nil || !strings.Contains(err.Error(), "2 images") {
		t.Errorf("Resolve(\"\") of two images: %v", err)
	}
	if d, _ := r.Resolve(ctx, "localhost:5000/team/app"); d.Digest != b.Root.Digest {
		t.Errorf("the name without a tag resolves to %s, want latest (%s)", d.Digest, b.Root.Digest)
	}

	w2, err := Create(ctx, filepath.Join(t.TempDir(), "anon.tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Abort(ctx)
	if err := testutil.CopyGraph(ctx, a, a.Root, w2); err != nil {
		t.Fatal(err)
	}
	if err := w2.Tag(ctx, a.Root, "v1"); err == nil || !strings.Contains(err.Error(), "NAME") {
		t.Errorf("a tag without a name: %v", err)
	}
}

// gate is a reader that signals its first read, then holds the rest of
// its bytes until released: a slow source holding the tar.
type gate struct {
	b                []byte
	started, release chan struct{}
	once             sync.Once
}

func (g *gate) Read(p []byte) (int, error) {
	g.once.Do(func() { close(g.started) })
	if len(g.b) == 0 {
		return 0, io.EOF
	}
	if len(p) > len(g.b)/2+1 {
		p = p[:len(g.b)/2+1]
	}
	n := copy(p, g.b)
	g.b = g.b[n:]
	if len(g.b) > 0 && n > 0 {
		<-g.release
	}
	return n, nil
}

// drainSignal closes done when its reader reaches EOF.
type drainSignal struct {
	r    io.Reader
	done chan struct{}
	once sync.Once
}

func (d *drainSignal) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err == io.EOF {
		d.once.Do(func() { close(d.done) })
	}
	return n, err
}

// While one slow source holds the tar, other pushes read their sources to
// the end (into spool files) instead of stalling them.
func TestWriterSpoolsWhileBusy(t *testing.T) {
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "spool", Layers: 2, LayerBytes: 512 << 10})
	path := filepath.Join(t.TempDir(), "spool.tar")
	w := create(t, path, "spool:v1")
	slow, fast := img.Layers[0][0], img.Layers[0][1]
	g := &gate{b: img.Blobs[slow.Digest], started: make(chan struct{}), release: make(chan struct{})}
	errs := make(chan error, 2)
	go func() { errs <- w.Push(ctx, slow, g) }()
	<-g.started // the slow push holds the tar now
	ds := &drainSignal{r: bytes.NewReader(img.Blobs[fast.Digest]), done: make(chan struct{})}
	go func() { errs <- w.Push(ctx, fast, ds) }()
	select {
	case <-ds.done:
	case <-time.After(20 * time.Second):
		close(g.release)
		t.Fatal("a push waited for the busy tar instead of draining its source")
	}
	close(g.release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	finish(t, w, img)
	r := open(t, path)
	for _, d := range []ocispec.Descriptor{slow, fast} {
		if !bytes.Equal(testutil.ReadBlob(t, r, d), img.Blobs[d.Digest]) {
			t.Errorf("layer %s differs", d.Digest)
		}
	}
	// A suffix read, as a resumed copy out of the archive does.
	rc, err := r.FetchFrom(ctx, fast, 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, _ := io.ReadAll(rc); !bytes.Equal(got, img.Blobs[fast.Digest][1000:]) {
		t.Error("FetchFrom(1000) differs")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("spool files left behind: %v", entries)
	}
}
