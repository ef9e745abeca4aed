package cli

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// A docker save archive without a manifest of its own (crane's tarball
// format: manifest.json, gzip'd layers) is pushed by hoist and by crane;
// both must give the registry the same manifest, so the same digest.
func TestArchivePushDigestMatchesCrane(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	crane := testutil.NeedBinary(t, "crane", ".ci/tools installs it into .tools/bin")
	reg := testutil.NewRegistry(t)
	pushNew(t, testutil.ImageSpec{Seed: "archive-digest", Docker: true, Layers: 3}, reg.Host+"/orig/app:v1")
	archive := filepath.Join(t.TempDir(), "app.tar")
	craneRun(t, crane, "pull", "--format", "tarball", reg.Host+"/orig/app:v1", archive)

	craneRun(t, crane, "push", archive, reg.Host+"/by/crane:v1")
	want := strings.TrimSpace(craneRun(t, crane, "digest", reg.Host+"/by/crane:v1"))

	out, stderr, code := hoist(t, "", "-q", "push", archive, reg.Host+"/by/hoist:v1")
	if code != 0 {
		t.Fatalf("hoist push: %d %s", code, stderr)
	}
	if got := strings.TrimSpace(out); got != want {
		hm, _, _ := hoist(t, "", "manifest", reg.Host+"/by/hoist:v1")
		cm := craneRun(t, crane, "manifest", reg.Host+"/by/crane:v1")
		t.Fatalf("hoist pushed %s, crane %s\nhoist: %s\ncrane: %s", got, want, hm, cm)
	}
}

func craneRun(t *testing.T, crane string, args ...string) string {
	t.Helper()
	out, err := exec.Command(crane, args...).Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg += ": " + string(ee.Stderr)
		}
		t.Fatalf("crane %s: %s", strings.Join(args, " "), msg)
	}
	return string(out)
}
