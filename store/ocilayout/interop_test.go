package ocilayout

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store"
)

// What hoist writes, skopeo reads (OCI media types: skopeo 1.9 ignores
// docker ones in a layout), and the layout skopeo writes from it hoist
// reads back with the same digests.
func TestSkopeoInterop(t *testing.T) {
	skopeo := testutil.NeedBinary(t, "skopeo", "apt-get install skopeo")
	multi := testutil.NewImage(t, testutil.ImageSpec{Seed: "sk-multi", Platforms: []string{"linux/amd64", "linux/arm64", "linux/s390x"}})
	single := testutil.NewImage(t, testutil.ImageSpec{Seed: "sk-single", Layers: 3})
	l := newLayout(t)
	put(t, l, multi, "multi")
	put(t, l, single, "single")

	raw := testutil.Run(t, skopeo, "inspect", "--raw", "oci:"+l.Dir()+":multi")
	if !bytes.Equal(raw, multi.Blobs[multi.Root.Digest]) {
		t.Errorf("skopeo reads other index bytes than hoist wrote:\n%s", raw)
	}
	var info struct {
		Digest digest.Digest
		Layers []digest.Digest
		Env    []string
	}
	if err := json.Unmarshal(testutil.Run(t, skopeo, "inspect", "oci:"+l.Dir()+":single"), &info); err != nil {
		t.Fatal(err)
	}
	var wantLayers []digest.Digest
	for _, d := range single.Layers[0] {
		wantLayers = append(wantLayers, d.Digest)
	}
	if info.Digest != single.Root.Digest || !slices.Equal(info.Layers, wantLayers) || !slices.Contains(info.Env, "SEED=sk-single") {
		t.Errorf("skopeo inspect = %+v, want digest %s and layers %v", info, single.Root.Digest, wantLayers)
	}

	// skopeo copies hoist's layout into its own; hoist reads that.
	out := filepath.Join(t.TempDir(), "by-skopeo")
	testutil.Run(t, skopeo, "copy", "--all", "oci:"+l.Dir()+":multi", "oci:"+out+":copied")
	s, err := Open(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Resolve(ctx, "copied")
	if err != nil || got.Digest != multi.Root.Digest {
		t.Fatalf("Resolve(copied) in skopeo's layout = %v, %v; want %s", got.Digest, err, multi.Root.Digest)
	}
	back := newLayout(t)
	if err := testutil.CopyGraph(ctx, s, got, back); err != nil {
		t.Fatal(err)
	}
	if files, want := blobFiles(t, back.Dir()), sortedDigests(multi.Blobs); !slices.Equal(files, want) {
		t.Errorf("copy of skopeo's layout holds %v, want %v", files, want)
	}
}

// A layout umoci builds (init, new, insert, config) reads in full, and
// umoci stats and unpacks what hoist writes.
func TestUmociInterop(t *testing.T) {
	umoci := testutil.NeedBinary(t, "umoci", "apt-get install umoci")
	t.Run("hoist reads umoci", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "umoci")
		file := filepath.Join(t.TempDir(), "hello.txt")
		os.WriteFile(file, []byte("hello from umoci\n"), 0o644)
		testutil.Run(t, umoci, "init", "--layout", dir)
		testutil.Run(t, umoci, "new", "--image", dir+":base")
		testutil.Run(t, umoci, "insert", "--rootless", "--image", dir+":base", file, "/hello.txt")
		testutil.Run(t, umoci, "config", "--image", dir+":base", "--config.env", "FROM=umoci")
		l, err := Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, ref := range []string{"base", ""} {
			d, err := l.Resolve(ctx, ref)
			if err != nil || d.MediaType != ocispec.MediaTypeImageManifest {
				t.Fatalf("Resolve(%q) = %+v, %v", ref, d, err)
			}
			if err := testutil.CopyGraph(ctx, l, d, newLayout(t)); err != nil {
				t.Fatalf("reading umoci's image: %v", err)
			}
		}
		if tags, _ := l.Tags(ctx, store.Page{}); !slices.Equal(tags, []string{"base"}) {
			t.Errorf("Tags = %v", tags)
		}
	})
	t.Run("umoci reads hoist", func(t *testing.T) {
		img := testutil.NewImage(t, testutil.ImageSpec{Seed: "um", Layers: 2})
		l := newLayout(t)
		put(t, l, img, "v1")
		if ls := strings.TrimSpace(string(testutil.Run(t, umoci, "ls", "--layout", l.Dir()))); ls != "v1" {
			t.Errorf("umoci ls = %q", ls)
		}
		var st struct {
			History []struct {
				Layer  *ocispec.Descriptor `json:"layer"`
				DiffID digest.Digest       `json:"diff_id"`
			} `json:"history"`
		}
		if err := json.Unmarshal(testutil.Run(t, umoci, "stat", "--json", "--image", l.Dir()+":v1"), &st); err != nil {
			t.Fatal(err)
		}
		if len(st.History) != 2 {
			t.Fatalf("umoci stat history: %+v", st.History)
		}
		for i, h := range st.History {
			if h.Layer == nil || h.Layer.Digest != img.Layers[0][i].Digest || h.DiffID != img.DiffIDs[0][i] {
				t.Errorf("umoci stat layer %d = %+v, want %s (diff_id %s)", i, h, img.Layers[0][i].Digest, img.DiffIDs[0][i])
			}
		}
		// unpack applies the layers, checking every blob and diff_id.
		bundle := filepath.Join(t.TempDir(), "bundle")
		testutil.Run(t, umoci, "unpack", "--rootless", "--image", l.Dir()+":v1", bundle)
		if _, err := os.Stat(filepath.Join(bundle, "rootfs", "um", "0", "layer1")); err != nil {
			t.Errorf("umoci unpack did not produce the layer's file: %v", err)
		}
	})
}

// crane (go-containerregistry's layout package) writes index.json entries
// without a ref.name, and keeps docker media types: "" resolves the one
// image.
func TestReadUntaggedLayout(t *testing.T) {
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "crane", Docker: true})
	l := newLayout(t)
	if err := testutil.CopyGraph(ctx, img, img.Root, l); err != nil {
		t.Fatal(err)
	}
	ix := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"` + img.Root.MediaType +
		`","size":` + itoa(img.Root.Size) + `,"digest":"` + img.Root.Digest.String() + `"}]}`
	os.WriteFile(filepath.Join(l.Dir(), "index.json"), []byte(ix), 0o644)
	d, err := l.Resolve(ctx, "")
	if err != nil || d.Digest != img.Root.Digest || d.MediaType != img.Root.MediaType {
		t.Fatalf("Resolve(\"\") = %+v, %v", d, err)
	}
	if tags, _ := l.Tags(ctx, store.Page{}); len(tags) != 0 {
		t.Errorf("Tags = %v", tags)
	}
}

func sortedDigests(m map[digest.Digest][]byte) []digest.Digest {
	var out []digest.Digest
	for d := range m {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// A layout crane writes (crane pull --format oci: no ref.name) reads in
// full, with the digest crane pushed from hoist's own layout.
func TestCraneInterop(t *testing.T) {
	crane := testutil.NeedBinary(t, "crane", ".ci/tools installs it into .tools/bin")
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "crane-layout", Platforms: []string{"linux/amd64", "linux/arm64"}})
	l := newLayout(t)
	put(t, l, img, "v1")
	reg := testutil.NewRegistry(t)
	ref := reg.Host + "/test/layout:v1"
	testutil.Run(t, crane, "push", l.Dir(), ref)

	dir := filepath.Join(t.TempDir(), "by-crane")
	testutil.Run(t, crane, "pull", "--format", "oci", ref, dir)
	c, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	root, err := c.Resolve(ctx, "")
	if err != nil || root.Digest != img.Root.Digest {
		t.Fatalf("Resolve(\"\") in crane's layout = %v, %v; want %s", root.Digest, err, img.Root.Digest)
	}
	back := newLayout(t)
	if err := testutil.CopyGraph(ctx, c, root, back); err != nil {
		t.Fatal(err)
	}
	if files, want := blobFiles(t, back.Dir()), sortedDigests(img.Blobs); !slices.Equal(files, want) {
		t.Errorf("copy of crane's layout holds %v, want %v", files, want)
	}
}
