package archive

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	digest "github.com/opencontainers/go-digest"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store/ocilayout"
)

// layoutOf writes img into a new OCI layout, tagged v1, for a peer to
// read, and returns the layout's directory.
func layoutOf(t *testing.T, img *testutil.Image) string {
	t.Helper()
	l, err := ocilayout.Create(ctx, filepath.Join(t.TempDir(), "src"))
	if err != nil {
		t.Fatal(err)
	}
	if err := testutil.CopyGraph(ctx, img, img.Root, l); err != nil {
		t.Fatal(err)
	}
	if err := l.Tag(ctx, img.Root, "v1"); err != nil {
		t.Fatal(err)
	}
	return l.Dir()
}

// openImage opens the archive a peer wrote at path and decodes the
// manifest ref names in it, which must have img's config.
func openImage(t *testing.T, path, ref string, img *testutil.Image) (*Reader, *content.Manifest) {
	t.Helper()
	r := open(t, path)
	root, err := r.Resolve(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	m, err := content.Decode(root.MediaType, testutil.ReadBlob(t, r, root))
	if err != nil {
		t.Fatal(err)
	}
	if m.Image.Config.Digest != img.Configs[0].Digest {
		t.Errorf("config %s, want %s", m.Image.Config.Digest, img.Configs[0].Digest)
	}
	return r, m
}

// skopeo reads what hoist writes. skopeo presents a docker archive's
// layers by diff_id (it decompresses them on read), so its layers are the
// image's diff_ids and its config the one hoist wrote; a full skopeo copy
// out of the archive checks every layer against its diff_id.
func TestSkopeoReadsHoistArchive(t *testing.T) {
	skopeo := testutil.NeedBinary(t, "skopeo", "apt-get install skopeo")
	for _, tc := range []struct {
		name string
		spec testutil.ImageSpec
	}{
		{"docker gzip", testutil.ImageSpec{Seed: "sk-docker", Docker: true, Layers: 3}},
		{"oci gzip", testutil.ImageSpec{Seed: "sk-oci"}},
		{"oci uncompressed", testutil.ImageSpec{Seed: "sk-plain", Uncompressed: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := testutil.NewImage(t, tc.spec)
			path := filepath.Join(t.TempDir(), "hoist.tar")
			writeImage(t, path, "example/app:v1", img)

			var info struct {
				RepoTags []string
				Layers   []digest.Digest
				Env      []string
			}
			if err := json.Unmarshal(testutil.Run(t, skopeo, "inspect", "docker-archive:"+path), &info); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(info.Layers, img.DiffIDs[0]) || !slices.Contains(info.Env, "SEED="+tc.spec.Seed) {
				t.Errorf("skopeo inspect = %+v, want layers %v", info, img.DiffIDs[0])
			}
			m, err := content.Decode("", testutil.Run(t, skopeo, "inspect", "--raw", "docker-archive:"+path+":example/app:v1"))
			if err != nil {
				t.Fatal(err)
			}
			if m.Image.Config.Digest != img.Configs[0].Digest {
				t.Errorf("skopeo sees config %s, hoist wrote %s", m.Image.Config.Digest, img.Configs[0].Digest)
			}
			out := filepath.Join(t.TempDir(), "oci")
			testutil.Run(t, skopeo, "copy", "docker-archive:"+path, "oci:"+out+":copied")
		})
	}
}

// hoist reads what skopeo writes: uncompressed <diff_id>.tar layers, a
// <hex>.json config, legacy layer directories with symlinks.
func TestReadSkopeoArchive(t *testing.T) {
	skopeo := testutil.NeedBinary(t, "skopeo", "apt-get install skopeo")
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "from-skopeo", Layers: 3})
	src := layoutOf(t, img)
	path := filepath.Join(t.TempDir(), "skopeo.tar")
	testutil.Run(t, skopeo, "copy", "oci:"+src+":v1", "docker-archive:"+path+":example/app:v1")

	r, m := openImage(t, path, "example/app:v1", img)
	if !bytes.Equal(testutil.ReadBlob(t, r, m.Image.Config), img.Blobs[img.Configs[0].Digest]) {
		t.Error("config bytes differ")
	}
	for i, ld := range m.Image.Layers {
		if ld.MediaType != MediaTypeDockerLayerTar || ld.Digest != img.DiffIDs[0][i] {
			t.Errorf("layer %d = %+v, want an uncompressed layer %s", i, ld, img.DiffIDs[0][i])
		}
		testutil.ReadBlob(t, r, ld) // verified to the end
	}
}
