package archive

import (
	"path/filepath"
	"testing"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/testutil"
)

// hoist reads the two tarball formats crane writes: go-containerregistry's
// own (gzip'd <hex>.tar.gz layers, config named sha256:<hex>) and its
// "legacy" docker save one. The image goes hoist layout -> crane push ->
// in-process registry -> crane pull.
func TestReadCraneTarballs(t *testing.T) {
	crane := testutil.NeedBinary(t, "crane", ".ci/tools installs it into .tools/bin")
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "crane", Docker: true, Layers: 3})
	src := layoutOf(t, img)
	reg := testutil.NewRegistry(t)
	ref := reg.Host + "/test/crane:v1"
	testutil.Run(t, crane, "push", src, ref)

	for _, format := range []string{"tarball", "legacy"} {
		t.Run(format, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), format+".tar")
			testutil.Run(t, crane, "pull", "--format", format, ref, path)
			r, m := openImage(t, path, ref, img)
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
