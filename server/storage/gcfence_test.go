package storage

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
)

// racingDriver runs onAside right after GC moves a blob aside: the moment
// a manifest push that needs the blob could touch its used file.
type racingDriver struct {
	storagedriver.StorageDriver
	onAside func()
}

func (d *racingDriver) Move(ctx context.Context, src, dst string) error {
	err := d.StorageDriver.Move(ctx, src, dst)
	if err == nil && strings.Contains(dst, "/hoist/trash/") && d.onAside != nil {
		f := d.onAside
		d.onAside = nil
		f()
	}
	return err
}

// A manifest push that touches an old, unreferenced blob while GC has it
// moved aside gets it back: GC reads the used file again and restores the
// blob. And a push that checks the blob while it is aside is refused, so
// no manifest is ever stored without its blob.
func TestGCFence(t *testing.T) {
	defer func(n int) { gcWorkers = n }(gcWorkers)
	gcWorkers = 1 // the hook below places the push between two steps of one blob's sweep
	ctx := context.Background()
	root := t.TempDir()
	d := &racingDriver{StorageDriver: filesystem.New(filesystem.DriverParameters{RootDirectory: root, MaxThreads: 25})}
	ns, _ := New(d)
	r := repo(t, ns, "fence")
	desc, raw := image(t, r, "old layer", nil)
	// The blobs are old and unreferenced now.
	old := time.Now().Add(-2 * time.Hour)
	filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			os.Chtimes(p, old, old)
		}
		return nil
	})

	var pushErr error
	d.onAside = func() {
		// The push's check runs while the layer is aside: refused.
		pushErr = r.Push(ctx, desc, bytes.NewReader(raw))
	}
	rep, err := ns.GC(ctx, GCConfig{Grace: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if pushErr == nil {
		t.Fatal("a manifest push was accepted while its blob was moved aside")
	}
	// The push touched used before it looked, so GC put the blob back.
	m, _ := decodeManifest(desc.MediaType, raw)
	for _, c := range childrenOf(m) {
		if ok, err := r.Exists(ctx, c); !ok || err != nil {
			t.Fatalf("GC removed %s although a push touched it meanwhile (report %+v)", c.Digest, rep)
		}
	}
	// The retried push succeeds, and a GC now keeps everything.
	if err := r.PushTagged(ctx, desc, bytes.NewReader(raw), "v1"); err != nil {
		t.Fatalf("retried push: %v", err)
	}
	if rep, err := ns.GC(ctx, GCConfig{Grace: time.Hour}); err != nil || rep.BlobsRemoved != 0 {
		t.Fatalf("GC with the manifest in place: %+v %v", rep, err)
	}
}

// childrenOf lists the blobs a manifest refers to.
func childrenOf(m *content.Manifest) []ocispec.Descriptor {
	var out []ocispec.Descriptor
	for _, c := range content.Children(m) {
		out = append(out, c.Descriptor)
	}
	return out
}

// A blob an earlier GC left aside (killed between its two steps) is put
// back by the next GC, which then decides on it again.
func TestGCRestoresWhatAKilledGCLeftAside(t *testing.T) {
	ctx := context.Background()
	ns := newNS(t)
	r := repo(t, ns, "aside")
	desc, raw := image(t, r, "kept", nil)
	if err := r.PushTagged(ctx, desc, bytes.NewReader(raw), "v1"); err != nil {
		t.Fatal(err)
	}
	m, _ := decodeManifest(desc.MediaType, raw)
	layer := m.Image.Layers[0].Digest
	aside := rootTrash + "/" + string(layer.Algorithm()) + "-" + layer.Encoded()
	if err := ns.d.Move(ctx, blobData(layer), aside); err != nil {
		t.Fatal(err)
	}
	if _, err := ns.GC(ctx, GCConfig{}); err != nil {
		t.Fatal(err)
	}
	if ok, err := r.Exists(ctx, m.Image.Layers[0]); !ok || err != nil {
		t.Fatalf("the referenced layer a killed GC left aside is gone: %v", err)
	}
}
