package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// TestLocalPaths: a path without a prefix reads the layout or archive it
// names (it used to go to Docker Hub, or fail with "invalid registry host
// '.'"); one that names nothing says which prefix to write.
func TestLocalPaths(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	wd := t.TempDir()
	chdir(t, wd)
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "local paths", Docker: true})
	layoutWith(t, filepath.Join(wd, "dir"), "v1", img)
	want := img.Root.Digest.String()

	for _, arg := range []string{"./dir", "./dir:v1", filepath.Join(wd, "dir")} {
		out, stderr, code := hoist(t, "", "inspect", arg)
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("inspect %s: %d %q %s", arg, code, out, stderr)
		}
	}
	if _, stderr, code := hoist(t, "", "copy", "./dir:v1", "docker-archive:app.tar"); code != 0 {
		t.Fatalf("copy to an archive: %d %s", code, stderr)
	}
	out, stderr, code := hoist(t, "", "-q", "manifest", "app.tar")
	if code != 0 || !strings.Contains(out, `"mediaType"`) {
		t.Errorf("manifest app.tar: %d %q %s", code, out, stderr)
	}
	if out, _, code := hoist(t, "", "inspect", "app.tar"); code != 0 || !strings.Contains(out, want) {
		t.Errorf("inspect app.tar: %d %q", code, out)
	}

	for arg, hint := range map[string]string{"./missing": "oci:./missing", "gone.tar": "docker-archive:gone.tar"} {
		_, stderr, code := hoist(t, "", "inspect", arg)
		if code != 2 || !strings.Contains(stderr, "no such file") || !strings.Contains(stderr, hint) {
			t.Errorf("inspect %s: exit %d %q; want 2 suggesting %s", arg, code, stderr, hint)
		}
	}
}
