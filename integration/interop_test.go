//go:build integration

package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// layerTarGz writes a gzipped tar of one file of n pseudo-random bytes.
func layerTarGz(t *testing.T, path string, seed uint64, n int) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	data := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	tw.WriteHeader(&tar.Header{Name: "file", Mode: 0o644, Size: int64(n), Typeflag: tar.TypeReg})
	tw.Write(data)
	tw.Close()
	gz.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func digestOfFile(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// TestInteropPeers moves images between hoist and its peers in both
// directions; digests must come out identical.
func TestInteropPeers(t *testing.T) {
	crane := testutil.NeedBinary(t, "crane", "run .ci/tools")
	skopeo := testutil.NeedBinary(t, "skopeo", "apt-get install skopeo")
	umoci := testutil.NeedBinary(t, "umoci", "apt-get install umoci")
	reg := testutil.DockerRegistry(t)
	dir := t.TempDir()
	env := []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}

	// crane pushes (Docker media types); hoist pulls; same digest.
	l1, l2 := filepath.Join(dir, "l1.tgz"), filepath.Join(dir, "l2.tgz")
	layerTarGz(t, l1, 1, 200_000)
	layerTarGz(t, l2, 2, 300_000)
	run(t, crane, "append", "-f", l1, "-f", l2, "-t", reg+"/peers/crane:v0")
	run(t, crane, "mutate", "--set-platform", "linux/amd64", "-t", reg+"/peers/crane:v1", reg+"/peers/crane:v0")
	craneDigest := strings.TrimSpace(run(t, crane, "digest", reg+"/peers/crane:v1"))
	out, stderr, code := runHoist(t, env, "-q", "pull", reg+"/peers/crane:v1", "oci:"+filepath.Join(dir, "fromcrane")+":v1")
	if code != 0 || strings.TrimSpace(out) != craneDigest {
		t.Fatalf("hoist pull of crane's image: %d %q (crane says %s)\n%s", code, out, craneDigest, stderr)
	}

	// hoist pushes; skopeo pulls to a layout; same digest.
	out, stderr, code = runHoist(t, env, "-q", "push", "oci:"+filepath.Join(dir, "fromcrane")+":v1", reg+"/peers/hoist:v1")
	if code != 0 || strings.TrimSpace(out) != craneDigest {
		t.Fatalf("hoist push: %d %q\n%s", code, out, stderr)
	}
	run(t, skopeo, "copy", "--src-tls-verify=false", "docker://"+reg+"/peers/hoist:v1", "oci:"+filepath.Join(dir, "byskopeo")+":v1")
	var si struct{ Digest string }
	json.Unmarshal([]byte(run(t, skopeo, "inspect", "--tls-verify=false", "docker://"+reg+"/peers/hoist:v1")), &si)
	if si.Digest != craneDigest {
		t.Fatalf("skopeo sees %s, want %s", si.Digest, craneDigest)
	}

	// A layout hoist writes with --format oci from the Docker-typed image is
	// read by skopeo and umoci.
	ociDir := filepath.Join(dir, "oci")
	out, stderr, code = runHoist(t, env, "-q", "pull", "--format", "oci", reg+"/peers/crane:v1", "oci:"+ociDir+":v1")
	if code != 0 {
		t.Fatalf("pull --format oci: %d %s", code, stderr)
	}
	converted := strings.TrimSpace(out)
	json.Unmarshal([]byte(run(t, skopeo, "inspect", "oci:"+ociDir+":v1")), &si)
	if si.Digest != converted {
		t.Fatalf("skopeo reads %s from hoist's layout, hoist wrote %s", si.Digest, converted)
	}
	run(t, umoci, "stat", "--image", ociDir+":v1")
	run(t, umoci, "unpack", "--rootless", "--image", ociDir+":v1", filepath.Join(dir, "bundle"))
	if _, err := os.Stat(filepath.Join(dir, "bundle", "rootfs", "file")); err != nil {
		t.Fatalf("umoci unpacked no file: %v", err)
	}
	// And an OCI-typed image pushed by hoist keeps its digest through skopeo.
	out, _, code = runHoist(t, env, "-q", "push", "oci:"+ociDir+":v1", reg+"/peers/oci:v1")
	if code != 0 || strings.TrimSpace(out) != converted {
		t.Fatalf("push of the OCI layout: %d %q", code, out)
	}
	run(t, skopeo, "copy", "--src-tls-verify=false", "docker://"+reg+"/peers/oci:v1", "oci:"+filepath.Join(dir, "skopeo-oci")+":v1")
	json.Unmarshal([]byte(run(t, skopeo, "inspect", "oci:"+filepath.Join(dir, "skopeo-oci")+":v1")), &si)
	if si.Digest != converted {
		t.Fatalf("skopeo copied %s, want %s", si.Digest, converted)
	}
}

// TestInteropMultiArch copies a three-platform index whole between real
// registries, and one platform of it, and checks both with crane.
func TestInteropMultiArch(t *testing.T) {
	crane := testutil.NeedBinary(t, "crane", "run .ci/tools")
	reg := testutil.DockerRegistry(t)
	dir := t.TempDir()
	env := []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "multi", Platforms: []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}})
	writeLayout(t, filepath.Join(dir, "src"), img)
	if _, stderr, code := runHoist(t, env, "push", "oci:"+filepath.Join(dir, "src")+":v1", reg+"/multi/app:v1"); code != 0 {
		t.Fatal(stderr)
	}

	out, stderr, code := runHoist(t, env, "-q", "copy", reg+"/multi/app:v1", reg+"/copy/app:v1")
	if code != 0 || strings.TrimSpace(out) != img.Root.Digest.String() {
		t.Fatalf("copy of the index: %d %q want %s\n%s", code, out, img.Root.Digest, stderr)
	}
	if got := strings.TrimSpace(run(t, crane, "digest", reg+"/copy/app:v1")); got != img.Root.Digest.String() {
		t.Fatalf("crane sees %s", got)
	}
	out, stderr, code = runHoist(t, env, "--json", "copy", "--platform", "linux/arm64", reg+"/multi/app:v1", reg+"/copy/arm64:v1")
	var res struct{ Digest, MediaType string }
	json.Unmarshal([]byte(out), &res)
	if code != 0 || res.Digest != img.Manifests[1].Digest.String() {
		t.Fatalf("copy --platform linux/arm64: %d %+v want %s\n%s", code, res, img.Manifests[1].Digest, stderr)
	}
	var m struct{ MediaType string }
	json.Unmarshal([]byte(run(t, crane, "manifest", reg+"/copy/arm64:v1")), &m)
	if !strings.Contains(m.MediaType, "image.manifest") {
		t.Fatalf("crane sees a %s, want one image manifest", m.MediaType)
	}
}
