package ocilayout

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// TestSymlinkedBlobRefused: a blob that is a symlink is refused before a
// byte is read, even when the file it points to has the right content
// (the push of such a layout would stream a file from outside it), and a
// blobs/ directory that is a symlink out of the layout is refused too.
func TestSymlinkedBlobRefused(t *testing.T) {
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "confine", Layers: 1, LayerBytes: 1000})
	layer := img.Layers[0][0]
	outside := t.TempDir()

	t.Run("blob symlink", func(t *testing.T) {
		l := newLayout(t)
		put(t, l, img, "v1")
		secret := filepath.Join(outside, "secret")
		if err := os.WriteFile(secret, img.Blobs[layer.Digest], 0o644); err != nil {
			t.Fatal(err)
		}
		p := l.blobPath(layer.Digest)
		os.Remove(p)
		if err := os.Symlink(secret, p); err != nil {
			t.Fatal(err)
		}
		_, err := l.Fetch(ctx, layer)
		if err == nil || !errors.Is(err, errOutside) || !strings.Contains(err.Error(), "is a symlink") || !strings.Contains(err.Error(), layer.Digest.Encoded()) {
			t.Fatalf("Fetch of a symlinked blob: %v", err)
		}
		if _, err := l.FetchFrom(ctx, layer, 10); err == nil {
			t.Fatal("FetchFrom of a symlinked blob succeeded")
		}
		if ok, err := l.Exists(ctx, layer); ok || err != nil {
			t.Fatalf("Exists of a symlinked blob = %v, %v; want false, nil", ok, err)
		}
		// Pushing the blob again replaces the link with the file.
		if err := l.Push(ctx, layer, bytes.NewReader(img.Blobs[layer.Digest])); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("after a push the blob is %v (%v), want a regular file", fi.Mode(), err)
		}
		if b, _ := os.ReadFile(secret); string(b) != string(img.Blobs[layer.Digest]) {
			t.Fatal("the push wrote through the symlink into the file outside")
		}
	})

	t.Run("blobs dir symlink", func(t *testing.T) {
		l := newLayout(t)
		put(t, l, img, "v1")
		moved := filepath.Join(outside, "blobs")
		if err := os.Rename(filepath.Join(l.dir, "blobs"), moved); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(moved, filepath.Join(l.dir, "blobs")); err != nil {
			t.Fatal(err)
		}
		_, err := l.Fetch(ctx, layer)
		if err == nil || !errors.Is(err, errOutside) || !strings.Contains(err.Error(), "leads outside the layout") {
			t.Fatalf("Fetch through a symlinked blobs/: %v", err)
		}
		if _, err := l.Exists(ctx, layer); err == nil {
			t.Fatal("Exists through a symlinked blobs/ reported no error")
		}
	})

	t.Run("fifo", func(t *testing.T) {
		l := newLayout(t)
		put(t, l, img, "v1")
		p := l.blobPath(layer.Digest)
		os.Remove(p)
		if err := mkfifo(p); err != nil {
			t.Fatal(err)
		}
		_, err := l.Fetch(ctx, layer)
		if err == nil || !errors.Is(err, errOutside) {
			t.Fatalf("Fetch of a FIFO blob: %v", err)
		}
	})
}

func mkfifo(p string) error { return unix.Mkfifo(p, 0o644) }

// TestCreateFinishesAnInterruptedCreate: a process killed inside Create
// leaves blobs/ and maybe an empty index.json, but no oci-layout; Create
// then finishes the layout rather than refusing a non-empty directory,
// and still refuses a directory holding anything else.
func TestCreateFinishesAnInterruptedCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755)
	os.WriteFile(filepath.Join(dir, "index.json"), []byte(`{"schemaVersion":2,"manifests":[]}`), 0o644)
	if _, err := Create(ctx, dir); err != nil {
		t.Fatalf("Create over an interrupted Create: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other")
	os.MkdirAll(filepath.Join(other, "blobs", "sha256"), 0o755)
	os.WriteFile(filepath.Join(other, "blobs", "sha256", "x"), []byte("x"), 0o644)
	if _, err := Create(ctx, other); err == nil || !strings.Contains(err.Error(), "is not empty") {
		t.Fatalf("Create over a directory with a file under blobs/: %v", err)
	}
}
