package copy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/copy"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/ocilayout"
	"github.com/hoist-dev/hoist/store/remote"
	"github.com/hoist-dev/hoist/transport"
)

// The ranged fetch against the in-process registry, through the fault
// proxy, which caps every answer's rate the way a per-connection limit
// does (so that splitting pays) and does the damage each test names.

const (
	bigSize = 20 << 20
	capRate = 20_000_000 // bytes per second, per request
)

type rangedImage struct {
	reg   *testutil.Registry
	layer testutil.BigBlob
	root  ocispec.Descriptor
}

// seedRanged returns the image with one 20 MiB layer, pushed once per
// test binary straight to a registry of its own (pushing it takes longer
// than the tests' pulls).
func seedRanged(t *testing.T) *rangedImage {
	t.Helper()
	seedOnce.Do(func() {
		reg, stop, err := testutil.StartRegistry()
		if err != nil {
			seedErr = err
			return
		}
		_ = stop // lives as long as the test binary
		layer := testutil.NewBigBlob(t, bigSize, content.MediaTypeOCILayer)
		cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
		cd := content.NewDescriptor(content.MediaTypeOCIConfig, cfg)
		m, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: content.MediaTypeOCIManifest, Config: cd, Layers: []ocispec.Descriptor{layer.Desc}})
		md := content.NewDescriptor(content.MediaTypeOCIManifest, m)
		r := openRemote(t, reg.Host+"/big/app:v1")
		for _, err := range []error{
			r.Push(ctx, layer.Desc, layer.Reader()),
			r.Push(ctx, cd, bytes.NewReader(cfg)),
			r.PushTagged(ctx, md, bytes.NewReader(m), "v1"),
		} {
			if err != nil && seedErr == nil {
				seedErr = err
			}
		}
		seeded = &rangedImage{reg: reg, layer: layer, root: md}
	})
	if seedErr != nil {
		t.Fatal(seedErr)
	}
	return seeded
}

var (
	seedOnce sync.Once
	seeded   *rangedImage
	seedErr  error
)

var ctx = context.Background()

func openRemote(t *testing.T, ref string) *remote.Repository {
	rf, err := reference.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	tr := transport.New(transport.WithRetryPolicy(transport.RetryPolicy{MaxAttempts: 1}))
	r, err := remote.New(rf, transport.NewClient(tr))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// capped is the fault proxy's Fault that paces every answer, then does
// extra (nil: nothing) to the first times matching ones.
func capped(match func(*http.Request) bool, times int, extra testutil.FaultAction) []testutil.Fault {
	return cappedAt(capRate, match, times, extra)
}

// cappedAt is capped at rate bytes per second.
func cappedAt(rate int64, match func(*http.Request) bool, times int, extra testutil.FaultAction) []testutil.Fault {
	var fs []testutil.Fault
	if extra != nil {
		fs = append(fs, testutil.Fault{Match: match, Times: times, Action: func(w http.ResponseWriter, r *http.Request, fwd http.Handler) {
			testutil.Throttle(rate)(w, r, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { extra(w, r, fwd) }))
		}})
	}
	return append(fs, testutil.Fault{Action: testutil.Throttle(rate)})
}

// laterSection matches ranged blob GETs that do not start at byte 0.
func laterSection(r *http.Request) bool {
	rg := r.Header.Get("Range")
	return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") && rg != "" && !strings.HasPrefix(rg, "bytes=0-")
}

// pull copies the image through p into the layout at dir.
func (im *rangedImage) pull(t *testing.T, p *testutil.FaultProxy, dir string) error {
	t.Helper()
	src := openRemote(t, p.Host+"/big/app:v1")
	l, err := ocilayout.Create(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = copy.New().Copy(ctx, src, "", l, "v1")
	return err
}

// checkLayer fails unless the layout at dir holds the layer, whole and
// right.
func (im *rangedImage) checkLayer(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "blobs", "sha256", im.layer.Desc.Digest.Encoded()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := digest.Canonical.FromReader(f)
	if err != nil || d != im.layer.Desc.Digest {
		t.Fatalf("layer in the layout hashes to %s (%v), want %s", d, err, im.layer.Desc.Digest)
	}
}

// blobGets lists the layer's GETs the proxy saw: their Range headers.
func (im *rangedImage) blobGets(p *testutil.FaultProxy) []string {
	var out []string
	for _, rq := range p.Requests() {
		if rq.Method == http.MethodGet && strings.Contains(rq.Path, "/blobs/"+im.layer.Desc.Digest.String()) {
			out = append(out, rq.Range)
		}
	}
	return out
}

// bounded parses every Range as bytes=a-b, failing on an open-ended one.
// (The first section asks for all of the blob and is cut short when the
// rest is split off, so the ranges overlap.)
func bounded(t *testing.T, ranges []string) []store.Range {
	t.Helper()
	var out []store.Range
	for _, rg := range ranges {
		var a, b int64
		if _, err := fmt.Sscanf(rg, "bytes=%d-%d", &a, &b); err != nil {
			t.Fatalf("Range %q is not bounded (bytes=a-b)", rg)
		}
		out = append(out, store.Range{Offset: a, Length: b - a + 1})
	}
	return out
}

// A large blob behind a per-connection cap is fetched as several bounded
// ranged requests at once, and lands whole and verified.
func TestRangedPullSplits(t *testing.T) {
	im := seedRanged(t)
	p := testutil.NewFaultProxy(t, im.reg.URL, capped(nil, 0, nil)...)
	dir := t.TempDir()
	if err := im.pull(t, p, filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	im.checkLayer(t, filepath.Join(dir, "out"))
	gets := im.blobGets(p)
	if len(gets) < 3 {
		t.Fatalf("the layer came in %d requests %q, want it split", len(gets), gets)
	}
	bounded(t, gets)
}

// A section whose answer breaks off mid-body is asked for again from
// where it stopped.
func TestRangedPullSectionDropped(t *testing.T) {
	im := seedRanged(t)
	p := testutil.NewFaultProxy(t, im.reg.URL, capped(laterSection, 1, testutil.CutResponseAfter(1<<20))...)
	out := filepath.Join(t.TempDir(), "out")
	if err := im.pull(t, p, out); err != nil {
		t.Fatal(err)
	}
	im.checkLayer(t, out)
	im.checkCutAskedAgain(t, p)
}

// checkCutAskedAgain fails unless the proxy cut exactly one section, and
// the rest of it, and only that, was asked for again.
func (im *rangedImage) checkCutAskedAgain(t *testing.T, p *testutil.FaultProxy) {
	t.Helper()
	var cut []testutil.ProxiedRequest
	for _, rq := range p.Struck() {
		if rq.Fault == 0 {
			cut = append(cut, rq)
		}
	}
	if len(cut) != 1 {
		t.Fatalf("the cut struck %d requests, want 1", len(cut))
	}
	c := bounded(t, []string{cut[0].Range})[0]
	again := false
	for _, r := range bounded(t, im.blobGets(p)) {
		again = again || r.Offset > c.Offset && r.Offset < c.End() && r.End() == c.End()
	}
	if !again {
		t.Fatalf("no request asked again for the rest of the cut section %s (requests %q)", cut[0].Range, im.blobGets(p))
	}
}

// A server that ignores Range gets one stream: the whole blob, once.
func TestRangedPullRangeIgnored(t *testing.T) {
	im := seedRanged(t)
	p := testutil.NewFaultProxy(t, im.reg.URL, capped(testutil.MatchRequest(http.MethodGet, "/blobs/"), 0, testutil.IgnoreRange())...)
	out := filepath.Join(t.TempDir(), "out")
	if err := im.pull(t, p, out); err != nil {
		t.Fatal(err)
	}
	im.checkLayer(t, out)
	im.checkAskedOnce(t, p)
}

// checkAskedOnce fails unless the layer was asked for once.
func (im *rangedImage) checkAskedOnce(t *testing.T, p *testutil.FaultProxy) {
	t.Helper()
	if gets := im.blobGets(p); len(gets) != 1 {
		t.Fatalf("the layer was asked for %d times (%q), want once", len(gets), gets)
	}
}

// A section whose bytes are wrong fails the blob's digest, which is
// detected before anything is visible, and the blob is fetched again.
func TestRangedPullWrongSection(t *testing.T) {
	im := seedRanged(t)
	p := testutil.NewFaultProxy(t, im.reg.URL, capped(laterSection, 1, testutil.CorruptResponseAt(12345))...)
	out := filepath.Join(t.TempDir(), "out")
	if err := im.pull(t, p, out); err != nil {
		t.Fatal(err)
	}
	im.checkLayer(t, out)
	im.checkStartedTwice(t, p)
}

// checkStartedTwice fails unless the blob was started twice: once more
// after its bad bytes were detected.
func (im *rangedImage) checkStartedTwice(t *testing.T, p *testutil.FaultProxy) {
	t.Helper()
	starts := 0
	for _, r := range bounded(t, im.blobGets(p)) {
		if r.Offset == 0 {
			starts++
		}
	}
	if starts != 2 {
		t.Fatalf("the blob was started %d times, want twice (once more after the bad bytes): %q", starts, im.blobGets(p))
	}
}

// A pull stopped between sections leaves them staged, not visible; the
// next run fetches only what is missing.
func TestRangedPullResumesMissingOnly(t *testing.T) {
	im := seedRanged(t)
	refuse := func(w http.ResponseWriter, r *http.Request, fwd http.Handler) {
		time.Sleep(300 * time.Millisecond) // the other sections get on meanwhile
		http.Error(w, `{"errors":[{"code":"DENIED","message":"no"}]}`, http.StatusForbidden)
	}
	p := testutil.NewFaultProxy(t, im.reg.URL, capped(laterSection, 1, refuse)...)
	out := filepath.Join(t.TempDir(), "out")
	if err := im.pull(t, p, out); err == nil {
		t.Fatal("the pull succeeded although a section was refused")
	}
	if _, err := os.Stat(filepath.Join(out, "blobs", "sha256", im.layer.Desc.Digest.Encoded())); !os.IsNotExist(err) {
		t.Fatalf("the layer is visible as a blob after a failed pull (%v)", err)
	}
	l, err := ocilayout.Open(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := l.Exists(ctx, im.layer.Desc); ok {
		t.Fatal("the layout says it has the layer after a failed pull")
	}
	_, staged := l.Staged()
	if staged == 0 {
		t.Fatal("nothing stayed staged")
	}
	in, err := l.Ingest(ctx, im.layer.Desc.Digest.String(), store.IngestOptions{Expected: im.layer.Desc})
	if err != nil {
		t.Fatal(err)
	}
	missing := in.(store.SectionIngest).Missing(bigSize)
	in.Close()
	var left int64
	for _, r := range missing {
		left += r.Length
	}
	if left == 0 || left >= bigSize {
		t.Fatalf("%d of %d bytes missing after the failed pull, in %v; want part of it staged", left, bigSize, missing)
	}

	p2 := testutil.NewFaultProxy(t, im.reg.URL, capped(nil, 0, nil)...)
	if err := im.pull(t, p2, out); err != nil {
		t.Fatal(err)
	}
	im.checkLayer(t, out)
	for _, r := range bounded(t, im.blobGets(p2)) {
		inside := false
		for _, m := range missing {
			inside = inside || r.Offset >= m.Offset && r.End() <= m.End()
		}
		if !inside {
			t.Fatalf("the second run asked for %d-%d, which was staged already (missing: %v)", r.Offset, r.End()-1, missing)
		}
	}
	t.Logf("second run: %d requests for the %d missing bytes in %d ranges", len(im.blobGets(p2)), left, len(missing))
}
