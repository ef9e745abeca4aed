package copy_test

import (
	"archive/tar"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/hoist-dev/hoist/copy"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store/archive"
)

// The ranged fetch into targets that take a blob only in order (a second
// registry's upload, a docker archive): the sections go through a spool,
// and the target gets the blob in order, verified before it is told the
// blob is complete.

// spoolCap is the per-request cap of the spool tests: well below what the
// in-process target takes in (under -race too), so that the source, not
// the target, sets the pace and splitting pays.
const spoolCap = 5_000_000

func spoolCapped(match func(*http.Request) bool, times int, extra testutil.FaultAction) []testutil.Fault {
	return cappedAt(spoolCap, match, times, extra)
}

// copyTo copies the image through p to a fresh in-process registry and
// returns it.
func (im *rangedImage) copyTo(t *testing.T, p *testutil.FaultProxy) (*testutil.Registry, error) {
	t.Helper()
	dst := testutil.NewRegistry(t)
	_, err := copy.New().Copy(ctx, openRemote(t, p.Host+"/big/app:v1"), "", openRemote(t, dst.Host+"/mirror/app:v1"), "v1")
	return dst, err
}

// checkTarget fails unless reg serves the layer, whole and right.
func (im *rangedImage) checkTarget(t *testing.T, reg *testutil.Registry) {
	t.Helper()
	rc, err := openRemote(t, reg.Host+"/mirror/app:v1").Fetch(ctx, im.layer.Desc)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	d, err := digest.Canonical.FromReader(rc)
	if err != nil || d != im.layer.Desc.Digest {
		t.Fatalf("the target's layer hashes to %s (%v), want %s", d, err, im.layer.Desc.Digest)
	}
}

// noSpoolLeft fails if a spool file is left in $TMPDIR (the spool is
// unlinked at once).
func noSpoolLeft(t *testing.T, tmp string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(tmp, "hoist-spool-*"))
	if len(left) > 0 {
		t.Fatalf("spool files left behind: %v", left)
	}
}

func TestRangedCopySplits(t *testing.T) {
	im := seedRanged(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	p := testutil.NewFaultProxy(t, im.reg.URL, spoolCapped(nil, 0, nil)...)
	dst, err := im.copyTo(t, p)
	if err != nil {
		t.Fatal(err)
	}
	im.checkTarget(t, dst)
	gets := im.blobGets(p)
	if len(gets) < 3 {
		t.Fatalf("the layer came in %d requests %q, want it split", len(gets), gets)
	}
	bounded(t, gets)
	noSpoolLeft(t, tmp)
}

func TestRangedCopySectionDropped(t *testing.T) {
	im := seedRanged(t)
	p := testutil.NewFaultProxy(t, im.reg.URL, spoolCapped(laterSection, 1, testutil.CutResponseAfter(1<<20))...)
	dst, err := im.copyTo(t, p)
	if err != nil {
		t.Fatal(err)
	}
	im.checkTarget(t, dst)
	im.checkCutAskedAgain(t, p)
}

func TestRangedCopyRangeIgnored(t *testing.T) {
	im := seedRanged(t)
	p := testutil.NewFaultProxy(t, im.reg.URL, spoolCapped(testutil.MatchRequest(http.MethodGet, "/blobs/"), 0, testutil.IgnoreRange())...)
	dst, err := im.copyTo(t, p)
	if err != nil {
		t.Fatal(err)
	}
	im.checkTarget(t, dst)
	im.checkAskedOnce(t, p)
}

// Wrong bytes in a split-off section fail the spool's check before the
// target is told the blob is complete: the target never holds the wrong
// blob, and the copy fetches it again.
func TestRangedCopyWrongSection(t *testing.T) {
	im := seedRanged(t)
	var mu sync.Mutex
	var puts []string
	dst := testutil.NewRegistry(t, testutil.WithMiddleware(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/blobs/uploads/") {
				mu.Lock()
				puts = append(puts, r.URL.Query().Get("digest"))
				mu.Unlock()
			}
			h.ServeHTTP(w, r)
		})
	}))
	p := testutil.NewFaultProxy(t, im.reg.URL, spoolCapped(laterSection, 1, testutil.CorruptResponseAt(12345))...)
	if _, err := copy.New().Copy(ctx, openRemote(t, p.Host+"/big/app:v1"), "", openRemote(t, dst.Host+"/mirror/app:v1"), "v1"); err != nil {
		t.Fatal(err)
	}
	im.checkTarget(t, dst)
	im.checkStartedTwice(t, p)
	n := 0
	mu.Lock()
	defer mu.Unlock()
	for _, d := range puts {
		if d == im.layer.Desc.Digest.String() {
			n++
		}
	}
	// The first upload's body ended in an error before the registry had
	// all of it, so only the second PUT can have completed.
	if n < 1 || n > 2 {
		t.Fatalf("%d uploads of the layer reached the target, want the good one (and at most one cut short)", n)
	}
}

// A copy stopped by a refused section leaves nothing in the target and
// nothing on disk (the spool is unlinked at once); the next run copies
// the blob whole.
func TestRangedCopyStoppedLeavesNothing(t *testing.T) {
	im := seedRanged(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	refuse := func(w http.ResponseWriter, r *http.Request, fwd http.Handler) {
		time.Sleep(300 * time.Millisecond) // the other sections get on meanwhile
		http.Error(w, `{"errors":[{"code":"DENIED","message":"no"}]}`, http.StatusForbidden)
	}
	p := testutil.NewFaultProxy(t, im.reg.URL, spoolCapped(laterSection, 1, refuse)...)
	dst, err := im.copyTo(t, p)
	if err == nil {
		t.Fatal("the copy succeeded although a section was refused")
	}
	if ok, _ := openRemote(t, dst.Host+"/mirror/app:v1").Exists(ctx, im.layer.Desc); ok {
		t.Fatal("the target holds the layer after a failed copy")
	}
	noSpoolLeft(t, tmp)
	p2 := testutil.NewFaultProxy(t, im.reg.URL, spoolCapped(nil, 0, nil)...)
	if _, err := copy.New().Copy(ctx, openRemote(t, p2.Host+"/big/app:v1"), "", openRemote(t, dst.Host+"/mirror/app:v1"), "v1"); err != nil {
		t.Fatal(err)
	}
	im.checkTarget(t, dst)
}

// A pull into a docker archive splits the layer as well.
func TestRangedArchivePull(t *testing.T) {
	im := seedRanged(t)
	p := testutil.NewFaultProxy(t, im.reg.URL, spoolCapped(nil, 0, nil)...)
	path := filepath.Join(t.TempDir(), "app.tar")
	name, err := reference.Parse("example.com/big/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	w, err := archive.Create(ctx, path, archive.WithReference(name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := copy.New().Copy(ctx, openRemote(t, p.Host+"/big/app:v1"), "", w, "v1"); err != nil {
		w.Abort(ctx)
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if gets := im.blobGets(p); len(gets) < 3 {
		t.Fatalf("the layer came in %d requests %q, want it split", len(gets), gets)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("the archive has no entry for the layer (%v)", err)
		}
		if strings.HasSuffix(h.Name, im.layer.Desc.Digest.Encoded()) {
			d, err := digest.Canonical.FromReader(io.LimitReader(tr, h.Size))
			if err != nil || d != im.layer.Desc.Digest {
				t.Fatalf("the archive's layer hashes to %s (%v)", d, err)
			}
			return
		}
	}
}
