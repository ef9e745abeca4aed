package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store/ocilayout"
)

// layoutWith writes img into a new layout at dir, tagged tag.
func layoutWith(t *testing.T, dir, tag string, img *testutil.Image) {
	t.Helper()
	ctx := context.Background()
	l, err := ocilayout.Create(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := testutil.CopyGraph(ctx, img, img.Root, l); err != nil {
		t.Fatal(err)
	}
	if err := l.Tag(ctx, img.Root, tag); err != nil {
		t.Fatal(err)
	}
}

func TestPushPullCopy(t *testing.T) {
	// Each test gets its own blob-location cache.
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	reg := testutil.NewRegistry(t)
	other := testutil.NewRegistry(t)
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "cli", Platforms: []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}})
	src := filepath.Join(t.TempDir(), "src")
	layoutWith(t, src, "v1", img)

	out, stderr, code := hoist(t, "", "push", "oci:"+src+":v1", reg.Host+"/team/app:v1")
	if code != 0 || !strings.Contains(out, img.Root.Digest.String()) {
		t.Fatalf("push: %d\n%s%s", code, out, stderr)
	}
	if !strings.Contains(stderr, "copied   sha256:") || !strings.Contains(stderr, "manifest sha256:") {
		t.Errorf("no per-blob lines on a non-terminal:\n%s", stderr)
	}

	// -q prints only the digest; a repeat copies nothing.
	out, _, code = hoist(t, "", "-q", "push", src, reg.Host+"/team/app:v1")
	if code != 0 || strings.TrimSpace(out) != img.Root.Digest.String() {
		t.Fatalf("push -q: %d %q", code, out)
	}

	// Mount within the registry, --json result.
	out, stderr, code = hoist(t, "", "--json", "copy", reg.Host+"/team/app:v1", reg.Host+"/team/mirror:v1")
	var res copyResult
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Mounted != res.Blobs || res.Copied != 0 || res.Digest != img.Root.Digest.String() {
		t.Fatalf("copy (mount): %d %+v\n%s", code, res, stderr)
	}

	// Only arm64, to another registry: one image manifest.
	out, stderr, code = hoist(t, "", "--json", "copy", "--platform", "linux/arm64", reg.Host+"/team/app:v1", other.Host+"/team/arm:v1")
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Digest != img.Manifests[1].Digest.String() || res.MediaType != content.MediaTypeOCIManifest {
		t.Fatalf("copy --platform linux/arm64: %d %+v\n%s", code, res, stderr)
	}

	// Pull into the default ./NAME layout, then inspect and list it.
	wd := t.TempDir()
	chdir(t, wd)
	_, stderr, code = hoist(t, "", "pull", reg.Host+"/team/app:v1")
	if code != 0 {
		t.Fatalf("pull: %d %s", code, stderr)
	}
	out, _, code = hoist(t, "", "tags", "oci:"+filepath.Join(wd, "app"))
	if code != 0 || strings.TrimSpace(out) != "v1" {
		t.Fatalf("tags of the pulled layout: %d %q", code, out)
	}
	out, _, code = hoist(t, "", "inspect", "oci:./app:v1")
	if code != 0 || !strings.Contains(out, "linux/arm/v7") || !strings.Contains(out, img.Root.Digest.String()) {
		t.Fatalf("inspect layout: %d\n%s", code, out)
	}
	out, _, code = hoist(t, "", "inspect", "--platform", "linux/arm64", reg.Host+"/team/app:v1")
	if code != 0 || !strings.Contains(out, img.Layers[1][0].Digest.String()) || !strings.Contains(out, "platform:    linux/arm64") {
		t.Fatalf("inspect --platform: %d\n%s", code, out)
	}
	out, _, code = hoist(t, "", "manifest", reg.Host+"/team/app:v1")
	if code != 0 || out != string(img.Blobs[img.Root.Digest]) {
		t.Fatalf("manifest is not byte-identical: %d", code)
	}

	// --all-tags
	hoist(t, "", "copy", reg.Host+"/team/app:v1", reg.Host+"/team/app:v2")
	_, stderr, code = hoist(t, "", "copy", "--all-tags", reg.Host+"/team/app", other.Host+"/copy/app")
	if code != 0 {
		t.Fatalf("copy --all-tags: %d %s", code, stderr)
	}
	out, _, _ = hoist(t, "", "tags", other.Host+"/copy/app")
	if strings.Fields(out)[0] != "v1" || strings.Fields(out)[1] != "v2" {
		t.Fatalf("tags after --all-tags: %q", out)
	}

	// delete, then the tag is gone
	_, stderr, code = hoist(t, "", "delete", other.Host+"/team/arm:v1")
	if code != 0 {
		t.Fatalf("delete: %d %s", code, stderr)
	}
	_, stderr, code = hoist(t, "", "inspect", other.Host+"/team/arm:v1")
	if code != 1 || !strings.Contains(stderr, "not found") {
		t.Fatalf("inspect after delete: %d %s", code, stderr)
	}
}

func TestFormatOCI(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	reg := testutil.NewRegistry(t)
	img, _ := pushNew(t, testutil.ImageSpec{Seed: "docker", Docker: true}, reg.Host+"/d/app:v1")
	dst := filepath.Join(t.TempDir(), "oci")
	out, stderr, code := hoist(t, "", "--json", "pull", "--format", "oci", reg.Host+"/d/app:v1", "oci:"+dst+":v1")
	var res copyResult
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.MediaType != content.MediaTypeOCIManifest || res.Digest == img.Root.Digest.String() {
		t.Fatalf("pull --format oci: %d %+v %s", code, res, stderr)
	}
	// Without --format the digest is kept.
	out, _, _ = hoist(t, "", "-q", "pull", reg.Host+"/d/app:v1", "oci:"+filepath.Join(t.TempDir(), "keep"))
	if strings.TrimSpace(out) != img.Root.Digest.String() {
		t.Fatalf("plain pull changed the digest: %q", out)
	}
}

func TestCopyErrors(t *testing.T) {
	reg := testutil.NewRegistry(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"copy", reg.Host + "/no/such:tag", reg.Host + "/x/y:z"}, 1, "no/such"},
		{[]string{"copy", "Bad/Ref", "x"}, 2, "lowercase"},
		{[]string{"copy", "--format", "zip", reg.Host + "/a:b", reg.Host + "/c:d"}, 2, "--format"},
		{[]string{"pull", "oci:/tmp/x", "oci:/tmp/y"}, 2, "hoist copy"},
		{[]string{"blob", reg.Host + "/a/b:c"}, 2, "DIGEST"},
		{[]string{"copy", "--platform", "nonsense", reg.Host + "/a:b", reg.Host + "/c:d"}, 2, "nonsense"},
	} {
		_, stderr, code := hoist(t, "", tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("hoist %v: exit %d %q; want %d mentioning %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

func chdir(t *testing.T, dir string) {
	old, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chdir(old) })
}

func TestDockerArchive(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	reg := testutil.NewRegistry(t)
	img, _ := pushNew(t, testutil.ImageSpec{Seed: "archive", Docker: true}, reg.Host+"/arch/app:v1")
	tarball := filepath.Join(t.TempDir(), "app.tar")
	out, stderr, code := hoist(t, "", "-q", "pull", reg.Host+"/arch/app:v1", tarball)
	if code != 0 || strings.TrimSpace(out) != img.Root.Digest.String() {
		t.Fatalf("pull to an archive: %d %q %s", code, out, stderr)
	}
	out, _, code = hoist(t, "", "inspect", "docker-archive:"+tarball+":"+reg.Host+"/arch/app:v1")
	if code != 0 || !strings.Contains(out, img.Root.Digest.String()) {
		t.Fatalf("inspect the archive by its name: %d\n%s", code, out)
	}
	out, stderr, code = hoist(t, "", "-q", "push", tarball, reg.Host+"/arch/back:v1")
	if code != 0 || strings.TrimSpace(out) != img.Root.Digest.String() {
		t.Fatalf("push the archive back: %d %q %s", code, out, stderr)
	}
	// A multi-platform image does not fit an archive: a clear error, no file.
	multi := testutil.NewImage(t, testutil.ImageSpec{Seed: "archive multi", Platforms: []string{"linux/amd64", "linux/arm64"}})
	msrc := filepath.Join(t.TempDir(), "multi")
	layoutWith(t, msrc, "v1", multi)
	bad := filepath.Join(t.TempDir(), "multi.tar")
	_, stderr, code = hoist(t, "", "copy", "oci:"+msrc+":v1", "docker-archive:"+bad)
	if _, err := os.Stat(bad); code != 1 || !strings.Contains(stderr, "--platform") || err == nil {
		t.Fatalf("index into an archive: %d %q, file exists: %v", code, stderr, err == nil)
	}
}
