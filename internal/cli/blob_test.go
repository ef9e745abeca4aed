package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/hoist-dev/hoist/internal/testutil"
)

func TestBlob(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	reg := testutil.NewRegistry(t)
	img, src := pushNew(t, testutil.ImageSpec{Seed: "blob verb"}, reg.Host+"/team/app:v1")
	layer := img.Layers[0][0].Digest
	out, stderr, code := hoist(t, "", "blob", reg.Host+"/team/app@"+layer.String())
	if code != 0 || digest.FromString(out) != layer {
		t.Fatalf("blob to stdout: %d, %d bytes %s", code, len(out), stderr)
	}
	file := filepath.Join(t.TempDir(), "layer")
	if _, stderr, code := hoist(t, "", "blob", "-o", file, reg.Host+"/team/app@"+layer.String()); code != 0 {
		t.Fatalf("blob -o: %d %s", code, stderr)
	}
	if data, err := os.ReadFile(file); err != nil || digest.FromBytes(data) != layer {
		t.Fatalf("blob -o wrote %d bytes (%v)", len(data), err)
	}
	_, stderr, code = hoist(t, "", "blob", "oci:"+src+"@"+layer.String())
	if code != 2 || !strings.Contains(stderr, "registry") {
		t.Fatalf("blob from a layout: %d %s", code, stderr)
	}
}
