package archive

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/testutil"
)

const (
	memChildEnv = "HOIST_ARCHIVE_MEM_CHILD"
	bigSize     = 128 << 20
	rssBudget   = 64 << 20
)

// Writing a 128 MiB layer into an archive and reading it back keeps the
// process's peak resident set under 64 MiB: the writer streams into the
// tar and the reader serves section readers.
func TestBigLayerPeakRSS(t *testing.T) {
	testutil.CheckPeakRSS(t, memChildEnv, filepath.Join(t.TempDir(), "big.tar"), rssBudget, bigLayerChild)
}

func bigLayerChild(t *testing.T, path string) {
	layer := testutil.NewBigBlob(t, bigSize, content.MediaTypeDockerLayer)
	cfg, _ := json.Marshal(ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{layer.Desc.Digest}}})
	cd := content.NewDescriptor(content.MediaTypeDockerConfig, cfg)
	m := ocispec.Manifest{MediaType: content.MediaTypeDockerManifest, Config: cd, Layers: []ocispec.Descriptor{layer.Desc}}
	m.SchemaVersion = 2
	raw, _ := json.Marshal(m)
	md := content.NewDescriptor(content.MediaTypeDockerManifest, raw)

	w, err := Create(ctx, path, WithReference(mustRef(t, "big:v1")))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort(ctx)
	for _, p := range []struct {
		d ocispec.Descriptor
		r io.Reader
	}{{layer.Desc, layer.Reader()}, {cd, bytes.NewReader(cfg)}, {md, bytes.NewReader(raw)}} {
		if err := w.Push(ctx, p.d, p.r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Tag(ctx, md, ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rc, err := r.Fetch(ctx, layer.Desc)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if n, err := io.Copy(io.Discard, rc); err != nil || n != bigSize {
		t.Fatalf("fetched %d bytes: %v", n, err)
	}
}
