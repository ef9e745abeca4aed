package copy_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/copy"
	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store/ocilayout"
)

// A layout blob goes to a registry unhashed (the layout checked it when
// it took it in, content.Deferring) and the registry checks its digest at
// the commit. A blob file that changed on disk since is refused there,
// and the error names the layout and the blob as corrupt; the registry
// keeps nothing of it and nothing is tagged.
func TestPushCorruptLayoutBlob(t *testing.T) {
	reg, stop, err := testutil.StartRegistry()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	dir := filepath.Join(t.TempDir(), "layout")
	l, err := ocilayout.Create(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	layer := make([]byte, 256<<10)
	if _, err := rand.Read(layer); err != nil {
		t.Fatal(err)
	}
	ld := content.NewDescriptor(content.MediaTypeOCILayer, layer)
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	cd := content.NewDescriptor(content.MediaTypeOCIConfig, cfg)
	m, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: content.MediaTypeOCIManifest, Config: cd, Layers: []ocispec.Descriptor{ld}})
	md := content.NewDescriptor(content.MediaTypeOCIManifest, m)
	for _, p := range []struct {
		d ocispec.Descriptor
		b []byte
	}{{ld, layer}, {cd, cfg}, {md, m}} {
		if err := l.Push(ctx, p.d, bytes.NewReader(p.b)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Tag(ctx, md, "v1"); err != nil {
		t.Fatal(err)
	}
	// Same size, one byte changed, as bit rot or an edit would leave it.
	path := filepath.Join(dir, "blobs", "sha256", ld.Digest.Encoded())
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	layer[1000] ^= 0xff
	if err := os.WriteFile(path, layer, 0o644); err != nil {
		t.Fatal(err)
	}

	dst := openRemote(t, reg.Host+"/team/app:v1")
	_, err = copy.New().Copy(ctx, l, "v1", dst, "v1")
	if err == nil {
		t.Fatal("pushing a layout with a corrupt blob succeeded")
	}
	t.Logf("the push failed as it should: %v", err)
	if !errors.Is(err, errcode.ErrDigestMismatch) {
		t.Errorf("error %q does not match errcode.ErrDigestMismatch", err)
	}
	for _, want := range []string{"OCI layout " + dir + " is corrupt", ld.Digest.String(), path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if ok, err := dst.Exists(ctx, ld); err != nil || ok {
		t.Errorf("the registry holds the corrupt blob (exists %v, %v)", ok, err)
	}
	if _, err := dst.Resolve(ctx, "v1"); err == nil {
		t.Error("the registry tagged v1")
	}

	// Put right, the same layout pushes whole.
	layer[1000] ^= 0xff
	if err := os.WriteFile(path, layer, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := copy.New().Copy(ctx, l, "v1", dst, "v1"); err != nil {
		t.Fatal(err)
	}
	if got, err := dst.Resolve(ctx, "v1"); err != nil || got.Digest != md.Digest {
		t.Fatalf("v1 resolves to %v (%v), want %s", got.Digest, err, md.Digest)
	}
}
