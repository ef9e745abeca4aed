//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store/ocilayout"
)

// TestServeMirror: hoist serve --mirror of a hoist serve upstream serves a
// pull; with the upstream stopped the same pull still succeeds; a tag
// moved upstream is seen once the TTL has passed; a blob corrupted
// upstream is refused and not stored; a push is refused, saying why.
func TestServeMirror(t *testing.T) {
	dir := t.TempDir()
	env := []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}
	upPort := testutil.FreePort(t)
	up := "127.0.0.1:" + strconv.Itoa(upPort)
	upRoot := filepath.Join(dir, "upstream")
	startUp := func() *os.Process {
		return testutil.StartProcess(t, upPort, hoistBin, "serve", "--addr", up, "--root", upRoot, "--access-log", "").Process
	}
	upProc := startUp()
	mirrorRoot := filepath.Join(dir, "mirror")
	const ttl = 2 * time.Second
	mirror, _ := startServe(t, "--root", mirrorRoot, "--mirror", up, "--mirror-ttl", ttl.String())

	src := filepath.Join(dir, "src")
	want := loadLayout(t, src, "mirror", 3, [][]byte{[]byte("a layer every image shares")})
	copyTo := func(from, to string) (string, string, int) {
		out, stderr, code := runHoist(t, env, "-q", "copy", from, to)
		return strings.TrimSpace(out), stderr, code
	}
	if _, stderr, code := copyTo("oci:"+src+":img0", up+"/team/app:v1"); code != 0 {
		t.Fatalf("push upstream: %s", stderr)
	}
	pull := func(n int) (string, string, int) {
		return copyTo(mirror+"/team/app:v1", "oci:"+filepath.Join(dir, "pull"+strconv.Itoa(n))+":v1")
	}
	if got, stderr, code := pull(1); code != 0 || got != want["img0"].String() {
		t.Fatalf("pull through the mirror: %q %s", got, stderr)
	}

	// The upstream goes away: the mirror serves what it has, even once
	// the tag is past its TTL.
	upProc.Signal(syscall.SIGKILL)
	for i := 0; ; i++ { // StartProcess's own Wait reaps it; wait for the port to close
		c, err := net.DialTimeout("tcp", up, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if i == 100 {
			t.Fatal("the upstream still listens after SIGKILL")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(ttl + 500*time.Millisecond)
	if got, stderr, code := pull(2); code != 0 || got != want["img0"].String() {
		t.Fatalf("pull with the upstream stopped: %q %s", got, stderr)
	}

	// The upstream is back and the tag moves: seen after the TTL.
	upProc = startUp()
	if _, stderr, code := copyTo("oci:"+src+":img1", up+"/team/app:v1"); code != 0 {
		t.Fatalf("moving the tag upstream: %s", stderr)
	}
	time.Sleep(ttl + 500*time.Millisecond)
	if got, stderr, code := pull(3); code != 0 || got != want["img1"].String() {
		t.Fatalf("pull after the tag moved upstream and the TTL passed: %q, want %s; %s", got, want["img1"], stderr)
	}

	// A blob corrupted upstream (same size, other bytes) is refused, and
	// the mirror stores nothing of it.
	if _, stderr, code := copyTo("oci:"+src+":img2", up+"/team/bad:v1"); code != 0 {
		t.Fatalf("push upstream: %s", stderr)
	}
	own := ownLayer(t, src, "img2")
	data := filepath.Join(upRoot, "hoist", "blobs", "sha256", own.Encoded()[:2], own.Encoded(), "data")
	b, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] ^= 0xff
	}
	if err := os.WriteFile(data, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for try := range 2 {
		_, stderr, code := copyTo(mirror+"/team/bad:v1", "oci:"+filepath.Join(dir, "bad"+strconv.Itoa(try))+":v1")
		if code == 0 {
			t.Fatalf("pull %d of an image whose layer is corrupted upstream succeeded", try)
		}
		t.Logf("pull %d of the corrupted image: exit %d: %s", try, code, strings.TrimSpace(stderr))
		if !strings.Contains(stderr, "502") || !strings.Contains(stderr, "nothing was stored") {
			t.Errorf("the refusal should be a 502 saying nothing was stored: %s", stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(mirrorRoot, "hoist", "blobs", "sha256", own.Encoded()[:2], own.Encoded(), "data")); !os.IsNotExist(err) {
		t.Fatalf("the mirror stored the corrupted blob %s (%v)", own, err)
	}

	// Pushes are refused with a message that names the upstream.
	_, stderr, code := copyTo("oci:"+src+":img0", mirror+"/team/app:mine")
	if code == 0 || !strings.Contains(stderr, "pull-through mirror of "+up) {
		t.Fatalf("push to the mirror: exit %d: %s", code, stderr)
	}
	t.Logf("push to the mirror: %s", strings.TrimSpace(stderr))
}

// ownLayer is the digest of the layer image tag of the layout in dir has
// to itself (loadLayout's second layer).
func ownLayer(t *testing.T, dir, tag string) digest.Digest {
	t.Helper()
	ctx := context.Background()
	l, err := ocilayout.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	_, m := taggedManifest(t, l, tag)
	return m.Layers[1].Digest
}

// taggedManifest resolves tag in l and decodes the image manifest it
// names.
func taggedManifest(t *testing.T, l *ocilayout.Layout, tag string) (ocispec.Descriptor, ocispec.Manifest) {
	t.Helper()
	ctx := context.Background()
	md, err := l.Resolve(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := l.Fetch(ctx, md)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var m ocispec.Manifest
	if err := json.NewDecoder(rc).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return md, m
}
