package ocilayout

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/testutil"
)

const (
	memChildEnv = "HOIST_OCILAYOUT_MEM_CHILD"
	bigSize     = 128 << 20
	rssBudget   = 64 << 20
)

// A 128 MiB blob pushed into a layout and fetched back keeps the process's
// peak resident set under 64 MiB: both directions stream.
func TestBigBlobPeakRSS(t *testing.T) {
	testutil.CheckPeakRSS(t, memChildEnv, filepath.Join(t.TempDir(), "layout"), rssBudget, bigBlobChild)
}

func bigBlobChild(t *testing.T, dir string) {
	l, err := Create(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	b := testutil.NewBigBlob(t, bigSize, content.MediaTypeOCILayerGzip)
	if err := l.Push(ctx, b.Desc, b.Reader()); err != nil {
		t.Fatal(err)
	}
	rc, err := l.Fetch(ctx, b.Desc)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if n, err := io.Copy(io.Discard, rc); err != nil || n != bigSize {
		t.Fatalf("fetched %d bytes: %v", n, err)
	}
}
