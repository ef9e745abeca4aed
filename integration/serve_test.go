//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// startServe runs `hoist serve` on a free loopback port with a fresh root
// (unless args give --root) and returns host:port and the root.
func startServe(t *testing.T, args ...string) (string, string) {
	t.Helper()
	port := testutil.FreePort(t)
	root := filepath.Join(t.TempDir(), "registry")
	all := append([]string{"serve", "--addr", "127.0.0.1:" + strconv.Itoa(port), "--root", root, "--access-log", ""}, args...)
	testutil.StartProcess(t, port, hoistBin, all...)
	return "127.0.0.1:" + strconv.Itoa(port), root
}

// peer runs a peer tool with HOME (and so its config) in dir, failing the
// test on a non-zero exit.
func peer(t *testing.T, home string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "DOCKER_CONFIG="+filepath.Join(home, ".docker"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// exampleDigest is the manifest digest of testdata/example:v1.
func exampleDigest(t *testing.T) string {
	t.Helper()
	var ix struct{ Manifests []struct{ Digest string } }
	b, err := os.ReadFile("../testdata/example/index.json")
	if err != nil || json.Unmarshal(b, &ix) != nil || len(ix.Manifests) != 1 {
		t.Fatalf("testdata/example/index.json: %v", err)
	}
	return ix.Manifests[0].Digest
}

// TestServeWithPeers pushes to and pulls from hoist serve with skopeo,
// crane, oras, regctl and hoist itself; digests never change.
func TestServeWithPeers(t *testing.T) {
	skopeo := testutil.NeedBinary(t, "skopeo", "apt-get install skopeo")
	crane := testutil.NeedBinary(t, "crane", "run .ci/tools")
	oras := testutil.NeedBinary(t, "oras", "run .ci/tools")
	regctl := testutil.NeedBinary(t, "regctl", "run .ci/tools")
	reg, _ := startServe(t)
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	env := []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}
	want := exampleDigest(t)

	inspectDigest := func(ref string) string {
		var si struct{ Digest string }
		if err := json.Unmarshal([]byte(peer(t, home, skopeo, "inspect", "--tls-verify=false", ref)), &si); err != nil {
			t.Fatalf("skopeo inspect %s: %v", ref, err)
		}
		return si.Digest
	}

	t.Run("skopeo", func(t *testing.T) {
		peer(t, home, skopeo, "copy", "--dest-tls-verify=false", "oci:../testdata/example:v1", "docker://"+reg+"/peers/skopeo:v1")
		if got := inspectDigest("docker://" + reg + "/peers/skopeo:v1"); got != want {
			t.Fatalf("skopeo pushed %s, want %s", got, want)
		}
		out := filepath.Join(dir, "skopeo-out")
		peer(t, home, skopeo, "copy", "--src-tls-verify=false", "docker://"+reg+"/peers/skopeo:v1", "oci:"+out+":v1")
		if got := inspectDigest("oci:" + out + ":v1"); got != want {
			t.Fatalf("skopeo pulled %s, want %s", got, want)
		}
	})

	t.Run("crane", func(t *testing.T) {
		ref := reg + "/peers/crane:v1"
		peer(t, home, crane, "push", "--insecure", "../testdata/example", ref)
		if got := strings.TrimSpace(peer(t, home, crane, "digest", "--insecure", ref)); got != want {
			t.Fatalf("crane pushed %s, want %s", got, want)
		}
		tarball := filepath.Join(dir, "crane.tar")
		peer(t, home, crane, "pull", "--insecure", ref, tarball)
		if st, err := os.Stat(tarball); err != nil || st.Size() == 0 {
			t.Fatalf("crane pull wrote nothing: %v", err)
		}
		peer(t, home, crane, "tag", "--insecure", ref, "v2")
		if tags := strings.Fields(peer(t, home, crane, "ls", "--insecure", reg+"/peers/crane")); strings.Join(tags, ",") != "v1,v2" {
			t.Fatalf("crane ls = %v, want v1 v2", tags)
		}
		peer(t, home, crane, "delete", "--insecure", reg+"/peers/crane@"+want)
		cmd := exec.Command(crane, "manifest", "--insecure", ref)
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "MANIFEST_UNKNOWN") {
			t.Fatalf("manifest after crane delete: %v %s", err, out)
		}
	})

	t.Run("oras", func(t *testing.T) {
		art := filepath.Join(dir, "notes.txt")
		sig := filepath.Join(dir, "signature.txt")
		os.WriteFile(art, []byte("an artifact of plain files\n"), 0o644)
		os.WriteFile(sig, []byte("a signature, attached as a referrer\n"), 0o644)
		ref := reg + "/peers/oras:v1"
		cmd := exec.Command(oras, "push", "--plain-http", "--artifact-type", "application/vnd.hoist.notes", ref, "notes.txt:text/plain")
		cmd.Dir, cmd.Env = dir, append(os.Environ(), "HOME="+home)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("oras push: %v\n%s", err, out)
		}
		cmd = exec.Command(oras, "attach", "--plain-http", "--artifact-type", "application/vnd.hoist.signature", ref, "signature.txt:text/plain")
		cmd.Dir, cmd.Env = dir, append(os.Environ(), "HOME="+home)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("oras attach: %v\n%s", err, out)
		}
		var disc struct {
			Referrers []struct {
				ArtifactType string `json:"artifactType"`
				Digest       string `json:"digest"`
			} `json:"referrers"`
		}
		out := peer(t, home, oras, "discover", "--plain-http", "--format", "json", ref)
		if err := json.Unmarshal([]byte(out), &disc); err != nil || len(disc.Referrers) != 1 || disc.Referrers[0].ArtifactType != "application/vnd.hoist.signature" {
			t.Fatalf("oras discover: %v\n%s", err, out)
		}
		pulled := filepath.Join(dir, "oras-pull")
		peer(t, home, oras, "pull", "--plain-http", "-o", pulled, ref)
		if b, err := os.ReadFile(filepath.Join(pulled, "notes.txt")); err != nil || string(b) != "an artifact of plain files\n" {
			t.Fatalf("oras pull: %q %v", b, err)
		}

		// regctl sees the same referrer.
		peer(t, home, regctl, "registry", "set", reg, "--tls", "disabled")
		list := peer(t, home, regctl, "artifact", "list", ref, "--format", "{{json .}}")
		if !strings.Contains(list, "application/vnd.hoist.signature") || !strings.Contains(list, disc.Referrers[0].Digest) {
			t.Fatalf("regctl artifact list lacks the signature:\n%s", list)
		}
	})

	t.Run("regctl", func(t *testing.T) {
		peer(t, home, regctl, "registry", "set", reg, "--tls", "disabled")
		peer(t, home, skopeo, "copy", "--dest-tls-verify=false", "oci:../testdata/example:v1", "docker://"+reg+"/peers/src:v1")
		peer(t, home, regctl, "image", "copy", reg+"/peers/src:v1", reg+"/peers/regctl:v1")
		if got := strings.TrimSpace(peer(t, home, regctl, "image", "digest", reg+"/peers/regctl:v1")); got != want {
			t.Fatalf("regctl copied %s, want %s", got, want)
		}
	})

	t.Run("hoist", func(t *testing.T) {
		out, stderr, code := runHoist(t, env, "-q", "copy", "oci:../testdata/example:v1", reg+"/peers/hoist:v1")
		if code != 0 || strings.TrimSpace(out) != want {
			t.Fatalf("hoist copy in: %d %q\n%s", code, out, stderr)
		}
		out, stderr, code = runHoist(t, env, "-q", "copy", reg+"/peers/hoist:v1", "oci:"+filepath.Join(dir, "hoist-out")+":v1")
		if code != 0 || strings.TrimSpace(out) != want {
			t.Fatalf("hoist copy out: %d %q\n%s", code, out, stderr)
		}
		out, _, _ = runHoist(t, env, "catalog", reg)
		for _, r := range []string{"peers/hoist", "peers/skopeo", "peers/oras"} {
			if !strings.Contains(out, r) {
				t.Errorf("hoist catalog lacks %s:\n%s", r, out)
			}
		}
	})
}

// TestServeV1 runs hoist serve --v1: one store behind both protocols. An
// image pushed over v1 pulls over v2 and back over v1 with the same image
// IDs; an image pushed over v2 pulls over v1.
func TestServeV1(t *testing.T) {
	reg, root := startServe(t, "--v1")
	dir := t.TempDir()
	env := []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}
	hoist := func(args ...string) string {
		t.Helper()
		out, stderr, code := runHoist(t, env, append([]string{"-q"}, args...)...)
		if code != 0 {
			t.Fatalf("hoist %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
		return strings.TrimSpace(out)
	}
	v1Tags := func(repo string) map[string]string {
		t.Helper()
		var tags map[string]string
		out := peer(t, dir, "curl", "-sf", "http://"+reg+"/v1/repositories/"+repo+"/tags")
		if err := json.Unmarshal([]byte(out), &tags); err != nil {
			t.Fatalf("v1 tags of %s: %v: %s", repo, err, out)
		}
		return tags
	}

	// v1 push; the image IDs the v1 registry recorded.
	hoist("--protocol", "v1", "copy", "oci:../testdata/example:v1", reg+"/fromv1:v1")
	pushedID := v1Tags("library/fromv1")["v1"]
	if len(pushedID) != 64 {
		t.Fatalf("v1 tags after the v1 push: %v", v1Tags("library/fromv1"))
	}
	// v2 pull of it, then a v1 pull: the same manifest both ways (the v1
	// chain converts back to the OCI image the v2 side holds), and the v1
	// tag still names the image ID that was pushed.
	viaV2 := hoist("--protocol", "v2", "copy", reg+"/library/fromv1:v1", "oci:"+filepath.Join(dir, "v2pull")+":v1")
	viaV1 := hoist("--protocol", "v1", "copy", reg+"/fromv1:v1", "oci:"+filepath.Join(dir, "v1pull")+":v1")
	if viaV2 != viaV1 {
		t.Fatalf("the v1-pushed image pulls as %s over v2 and %s over v1", viaV2, viaV1)
	}
	if id := v1Tags("library/fromv1")["v1"]; id != pushedID {
		t.Fatalf("after pulls the v1 tag names %s, pushed as %s", id, pushedID)
	}
	// The gzip layer is stored once, as the v2 blob, not also as a v1 file.
	if _, err := os.Stat(filepath.Join(root, "hoist", "v1", "images", pushedID, "layer")); err == nil {
		t.Error("the v1-pushed layer is stored twice: as a v1 file and as a v2 blob")
	}

	// v2 push, v1 pull.
	want := hoist("--protocol", "v2", "copy", "oci:../testdata/example:v1", reg+"/library/fromv2:v1")
	got := hoist("--protocol", "v1", "copy", reg+"/fromv2:v1", "oci:"+filepath.Join(dir, "fromv2")+":v1")
	if got == "" || len(v1Tags("library/fromv2")["v1"]) != 64 {
		t.Fatalf("v1 pull of the v2-pushed image (%s): %q", want, got)
	}
	// v1 search finds a repository only v2 clients have touched.
	hoist("--protocol", "v2", "copy", "oci:../testdata/example:v1", reg+"/team/onlyv2:v1")
	if out := peer(t, dir, "curl", "-sf", "http://"+reg+"/v1/search?q=onlyv2"); !strings.Contains(out, `"name":"team/onlyv2"`) {
		t.Fatalf("v1 search for a v2-only repository: %s", out)
	}

	// The layer came through byte for byte: the same layer digest.
	wantLayer := run(t, "sh", "-c", "ls ../testdata/example/blobs/sha256 | sort")
	for _, l := range strings.Fields(wantLayer) {
		if _, err := os.Stat(filepath.Join(dir, "fromv2", "blobs", "sha256", l)); err == nil {
			return
		}
	}
	t.Fatalf("no blob of the example image came through the v1 pull unchanged")
}
