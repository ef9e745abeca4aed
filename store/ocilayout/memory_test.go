package ocilayout

import (
	"io"
	"os"
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
	if testing.Short() {
		t.Skip("writes 128 MiB; skipped with -short")
	}
	if dir := os.Getenv(memChildEnv); dir != "" {
		bigBlobChild(t, dir)
		return
	}
	peak := testutil.PeakRSSInChild(t, "TestBigBlobPeakRSS", memChildEnv+"="+filepath.Join(t.TempDir(), "layout"))
	t.Logf("child peak RSS %.1f MiB (budget %d MiB)", float64(peak)/1024, rssBudget>>20)
	if peak*1024 >= rssBudget {
		t.Fatalf("peak RSS %d KiB is over the %d MiB budget", peak, rssBudget>>20)
	}
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
	testutil.ReportPeakRSS(t)
}
