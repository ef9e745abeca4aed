package archive

import (
	"path/filepath"
	"testing"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store/ocilayout"
)

// hoist reads the two tarball formats crane writes: go-containerregistry's
// own (gzip'd <hex>.tar.gz layers, config named sha256:<hex>) and its
// "legacy" docker save one. The image goes hoist layout -> crane push ->
// in-process registry -> crane pull.
func TestReadCraneTarballs(t *testing.T) {
	crane := testutil.NeedBinary(t, "crane", ".ci/tools installs it into .tools/bin")
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "crane", Docker: true, Layers: 3})
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
	reg := testutil.NewRegistry(t)
	ref := reg.Host + "/test/crane:v1"
	testutil.Run(t, crane, "push", l.Dir(), ref)

	for _, format := range []string{"tarball", "legacy"} {
		t.Run(format, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), format+".tar")
			testutil.Run(t, crane, "pull", "--format", format, ref, path)
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
			for i, ld := range m.Image.Layers {
				gz := ld.MediaType == content.MediaTypeDockerLayer && ld.Digest == img.Layers[0][i].Digest
				plain := ld.MediaType == MediaTypeDockerLayerTar && ld.Digest == img.DiffIDs[0][i]
				if !gz && !plain {
					t.Errorf("layer %d = %s %s; want the gzip layer %s or the tar %s", i, ld.MediaType, ld.Digest, img.Layers[0][i].Digest, img.DiffIDs[0][i])
				}
				testutil.ReadBlob(t, r, ld)
			}
		})
	}
}
