package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// Issue 9, defect 10: a pull that fails before any content arrives
// removes the directory it created, and leaves one it did not create.
func TestFailedPullLeavesNoDirectory(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	reg := testutil.NewRegistry(t)
	locked := testutil.NewRegistry(t, testutil.WithHtpasswd(map[string]string{"alice": "secret"}))
	pushImage(t, "debris", reg.Host+"/team/app:v1")
	wd := t.TempDir()
	chdir(t, wd)
	cfg := t.TempDir() // no credentials

	for _, tt := range []struct {
		args []string
		dir  string
		why  string
	}{
		{[]string{"pull", reg.Host + "/team/app:missing"}, "app", "not found"},
		{[]string{"pull", reg.Host + "/team/app:missing", "oci:out:v1"}, "out", "not found"},
		{[]string{"--config", cfg, "pull", locked.Host + "/team/secret:v1"}, "secret", "401 Unauthorized"},
	} {
		_, stderr, code := hoist(t, "", tt.args...)
		if code != 1 || !strings.Contains(stderr, tt.why) {
			t.Errorf("hoist %q: exit %d %s; want 1, %s", tt.args, code, stderr, tt.why)
		}
		if _, err := os.Stat(filepath.Join(wd, tt.dir)); !os.IsNotExist(err) {
			t.Errorf("hoist %q left %s behind (%v)", tt.args, tt.dir, err)
		}
	}

	// A layout that was there before is kept, whatever fails.
	if _, stderr, code := hoist(t, "", "pull", reg.Host+"/team/app:v1"); code != 0 {
		t.Fatal(stderr)
	}
	hoist(t, "", "pull", reg.Host+"/team/app:missing")
	if out, _, code := hoist(t, "", "tags", "./app"); code != 0 || strings.TrimSpace(out) != "v1" {
		t.Errorf("the existing layout after a failed pull into it: %d %q", code, out)
	}
	// So is an empty directory the user made.
	os.Mkdir("empty", 0o755)
	hoist(t, "", "pull", reg.Host+"/team/app:missing", "empty")
	if _, err := os.Stat("empty"); err != nil {
		t.Errorf("the user's empty directory: %v", err)
	}
}

// Issue 9, defect 12: pushing a layout that lacks a blob succeeds when
// the blob-location cache mounts it, and says the layout is incomplete.
func TestPushIncompleteLayoutWarns(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	reg := testutil.NewRegistry(t)
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "incomplete"})
	src := filepath.Join(t.TempDir(), "src")
	layoutWith(t, src, "v1", img)
	if _, stderr, code := hoist(t, "", "push", src, reg.Host+"/team/a:v1"); code != 0 {
		t.Fatal(stderr)
	}
	gone := img.Layers[0][0].Digest
	if err := os.Remove(filepath.Join(src, "blobs", "sha256", gone.Encoded())); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := hoist(t, "", "push", src, reg.Host+"/team/b:v1")
	if code != 0 || !strings.Contains(out, img.Root.Digest.String()) {
		t.Fatalf("push of the incomplete layout: %d %s%s", code, out, stderr)
	}
	if !strings.Contains(stderr, "warning: the source oci:"+src) || !strings.Contains(stderr, "is incomplete") || !strings.Contains(stderr, gone.String()) {
		t.Errorf("no warning naming the missing blob %s:\n%s", gone, stderr)
	}
	if _, stderr, _ := hoist(t, "", "push", src, reg.Host+"/team/c:v1"); !strings.Contains(stderr, gone.String()) {
		t.Errorf("second push: no warning:\n%s", stderr)
	}
}
