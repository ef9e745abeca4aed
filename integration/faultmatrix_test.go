//go:build integration

package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/copy"
	"github.com/hoist-dev/hoist/distribution"
	"github.com/hoist-dev/hoist/hosts"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/ocilayout"
	"github.com/hoist-dev/hoist/store/remote"
	"github.com/hoist-dev/hoist/transport"
)

// requestKind is a row group of the fault matrix: the request a fault
// strikes.
type requestKind struct {
	name  string
	match func(*http.Request) bool
	// chunked pushes in PATCH chunks, so that PATCHes are sent at all.
	chunked bool
}

var requestKinds = []requestKind{
	{name: "manifest GET", match: testutil.MatchRequest(http.MethodGet, "/manifests/")},
	{name: "blob GET", match: testutil.MatchRequest(http.MethodGet, "/blobs/sha256:")},
	{name: "upload POST", match: testutil.MatchRequest(http.MethodPost, "/blobs/uploads/")},
	{name: "upload PATCH", match: testutil.MatchRequest(http.MethodPatch, "/blobs/uploads/"), chunked: true},
	{name: "upload PUT", match: testutil.MatchRequest(http.MethodPut, "/blobs/uploads/")},
}

var operations = []string{"pull", "push", "copy"}

// quickClock lets the transport's backoff and Retry-After pass quickly:
// what is tested is that the waits happen and end, not how long they are.
type quickClock struct{}

func (quickClock) Now() time.Time { return time.Now() }

func (quickClock) Sleep(ctx context.Context, d time.Duration) error {
	return transport.Sleep(ctx, min(d, 20*time.Millisecond))
}

// matrixStore opens repository app on host through hoist's stack as the
// command builds it (transport, auth, redirect policy), with a short
// stall timeout so that stalls end quickly.
func matrixStore(t *testing.T, host string, opts ...distribution.Option) *remote.Repository {
	t.Helper()
	tr := transport.New(transport.WithHosts(&hosts.Config{CertsDirs: []string{}}),
		transport.WithStallTimeout(750*time.Millisecond), transport.WithClock(quickClock{}))
	t.Cleanup(tr.CloseIdleConnections)
	ref, err := reference.Parse(host + "/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	r, err := remote.New(ref, transport.NewClient(auth.NewTransport(tr, host, nil)), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// checkImage reads every manifest and blob of tag v1 in s, verified.
func checkImage(ctx context.Context, s store.Reader, want ocispec.Descriptor) error {
	root, err := s.Resolve(ctx, "v1")
	if err != nil {
		return err
	}
	if root.Digest != want.Digest {
		return fmt.Errorf("v1 is %s, want %s", root.Digest, want.Digest)
	}
	rc, err := s.Fetch(ctx, root)
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return err
	}
	m, err := content.Decode(root.MediaType, raw)
	if err != nil {
		return err
	}
	for _, d := range append([]ocispec.Descriptor{m.Image.Config}, m.Image.Layers...) {
		rc, err := s.Fetch(ctx, d)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("blob %s: %w", d.Digest, err)
		}
	}
	return nil
}

// TestFaultMatrix runs pull, push and copy with one fault on one request,
// for every fault kind and every request kind: each must complete, and
// leave the whole image, verified, in the target. A fault on a request the
// operation never sends is reported as such. "200 to Range" strikes only a
// request with Range, which a pull sends when it resumes what an
// interrupted pull staged; its pull runs start from such a layout.
// HOIST_FAULT_TABLE=FILE writes the table there as Markdown.
func TestFaultMatrix(t *testing.T) {
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "matrix", Layers: 2, LayerBytes: 300_000})
	var mu sync.Mutex
	results := map[string]string{}
	for _, op := range operations {
		for _, rk := range requestKinds {
			for _, fk := range testutil.FaultKinds {
				op, rk, fk := op, rk, fk
				t.Run(op+"/"+rk.name+"/"+string(fk), func(t *testing.T) {
					t.Parallel()
					res := runFaultCase(t, img, op, rk, fk)
					mu.Lock()
					results[op+"|"+rk.name+"|"+string(fk)] = res
					mu.Unlock()
				})
			}
		}
	}
	t.Cleanup(func() {
		table := faultTable(results)
		t.Log("\n" + table)
		if p := os.Getenv("HOIST_FAULT_TABLE"); p != "" {
			os.WriteFile(p, []byte(table), 0o644)
		}
	})
}

// runFaultCase runs one operation under one fault and returns the table
// cell: "ok", "not sent", or the failure.
func runFaultCase(t *testing.T, img *testutil.Image, op string, rk requestKind, fk testutil.FaultKind) string {
	match := rk.match
	if fk == testutil.FaultIgnoreRange {
		// Only a request with Range can have it ignored.
		match = func(r *http.Request) bool { return rk.match(r) && r.Header.Get("Range") != "" }
	}
	one := func(redirectTo string) testutil.Fault {
		return testutil.Fault{Match: testutil.FirstOf(match), Action: fk.Action(redirectTo)}
	}
	upload := strings.HasPrefix(rk.name, "upload")
	run := faultRun{op: op, chunked: rk.chunked, stageRange: fk == testutil.FaultIgnoreRange && op == "pull"}
	if op == "pull" || (op == "copy" && !upload) {
		run.srcFault = one
	}
	if op == "push" || (op == "copy" && upload) {
		run.dstFault = one
	}
	struck, err, check := run.do(t, img)
	switch {
	case err != nil:
		t.Errorf("%s under %q on the first %s: %v", op, fk, rk.name, err)
		return "FAIL: " + err.Error()
	case len(struck) == 0:
		return "not sent"
	}
	if err := check(); err != nil {
		t.Errorf("%s under %q on the first %s succeeded, but the target is wrong: %v", op, fk, rk.name, err)
		return "FAIL (target): " + err.Error()
	}
	return "ok"
}

// faultRun is one pull, push or copy of the test image with faults in
// front of the source registry, the target registry, or both.
type faultRun struct {
	op      string
	chunked bool // push in PATCH chunks of 100 kB
	// stageRange starts a pull from a layout holding half of the first
	// layer, as an interrupted pull leaves it.
	stageRange bool
	// srcFault and dstFault, when set, give the fault of a proxy in front
	// of the source or target registry; redirectTo is a second, correct
	// proxy to the same registry.
	srcFault, dstFault func(redirectTo string) testutil.Fault
}

// do runs it and returns the requests the faults struck, the operation's
// error, and a check that the target holds the whole image, verified.
func (fr faultRun) do(t *testing.T, img *testutil.Image) ([]testutil.ProxiedRequest, error, func() error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	src := testutil.NewRegistry(t)
	if err := testutil.CopyGraph(ctx, img, img.Root, matrixStore(t, src.Host)); err != nil {
		t.Fatal(err)
	}
	if err := matrixStore(t, src.Host).Tag(ctx, img.Root, "v1"); err != nil {
		t.Fatal(err)
	}
	var proxies []*testutil.FaultProxy
	front := func(reg *testutil.Registry, fault func(string) testutil.Fault) string {
		if fault == nil {
			return reg.Host
		}
		second := testutil.NewFaultProxy(t, reg.URL)
		p := testutil.NewFaultProxy(t, reg.URL, fault(second.URL))
		proxies = append(proxies, p)
		return p.Host
	}
	var opts []distribution.Option
	if fr.chunked {
		opts = append(opts, distribution.WithMaxChunkSize(100_000))
	}
	var (
		from  store.Reader
		to    store.Writer
		check func() error
	)
	if fr.op == "push" {
		from = writeLayout(t, filepath.Join(t.TempDir(), "src"), img)
	} else {
		from = matrixStore(t, front(src, fr.srcFault))
	}
	if fr.op == "pull" {
		dir := filepath.Join(t.TempDir(), "layout")
		lay, err := ocilayout.Create(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		if fr.stageRange {
			// The first layer's GET asks for the rest with Range.
			stagePartial(t, ctx, lay, img.Layers[0][0], img.Blobs[img.Layers[0][0].Digest])
		}
		to = lay
		check = func() error {
			l, err := ocilayout.Open(ctx, dir)
			if err != nil {
				return err
			}
			return checkImage(ctx, l, img.Root)
		}
	} else {
		dst := testutil.NewRegistry(t)
		to = matrixStore(t, front(dst, fr.dstFault), opts...)
		check = func() error { return checkImage(ctx, matrixStore(t, dst.Host), img.Root) }
	}
	_, err := copy.New().Copy(ctx, from, "v1", to, "v1")
	var struck []testutil.ProxiedRequest
	for _, p := range proxies {
		struck = append(struck, p.Struck()...)
	}
	return struck, err, check
}

// TestFaultSchedules runs pull, push and copy under seeded schedules that
// strike about one request in ten with any fault kind, in front of both
// registries. Several faults may then hit one blob, and an operation may
// fail; what must never happen is an operation that reports success while
// the target is wrong. Each seed replays the same schedule.
func TestFaultSchedules(t *testing.T) {
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "schedules", Layers: 2, LayerBytes: 300_000})
	for _, op := range operations {
		for seed := uint64(1); seed <= 8; seed++ {
			op, seed := op, seed
			t.Run(fmt.Sprintf("%s/seed %d", op, seed), func(t *testing.T) {
				t.Parallel()
				sched := func(s uint64) func(string) testutil.Fault {
					return func(redirectTo string) testutil.Fault {
						return testutil.Schedule(s, 0.1, redirectTo, testutil.FaultKinds...)
					}
				}
				fr := faultRun{op: op, chunked: seed%2 == 0, srcFault: sched(seed), dstFault: sched(seed + 1000)}
				struck, err, check := fr.do(t, img)
				if err != nil {
					t.Logf("%d faults; the %s failed: %v", len(struck), op, err)
					return
				}
				if err := check(); err != nil {
					t.Fatalf("%d faults; the %s succeeded but the target is wrong: %v", len(struck), op, err)
				}
				t.Logf("%d faults; the %s succeeded", len(struck), op)
			})
		}
	}
}

// stagePartial leaves the first half of blob desc staged in lay, as an
// interrupted pull does: in the ingest the copy engine names by digest.
func stagePartial(t *testing.T, ctx context.Context, lay *ocilayout.Layout, desc ocispec.Descriptor, blob []byte) {
	t.Helper()
	in, err := lay.Ingest(ctx, desc.Digest.String(), store.IngestOptions{Expected: desc})
	if err != nil {
		t.Fatal(err)
	}
	half := io.MultiReader(bytes.NewReader(blob[:len(blob)/2]), iotest.ErrReader(errors.New("interrupted")))
	if err := store.CopyIngest(ctx, in, desc, half); err == nil {
		t.Fatal("an ingest of half a blob succeeded")
	}
	in, err = lay.Ingest(ctx, desc.Digest.String(), store.IngestOptions{Expected: desc, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if in.Offset() != int64(len(blob)/2) {
		t.Fatalf("staged %d bytes, want %d", in.Offset(), len(blob)/2)
	}
	in.Close()
}

// faultTable renders the results: one row per request kind and fault kind,
// one column per operation.
func faultTable(results map[string]string) string {
	var b strings.Builder
	b.WriteString("| request | fault | " + strings.Join(operations, " | ") + " |\n|---|---|---|---|---|\n")
	counts := map[string]int{}
	for _, rk := range requestKinds {
		for _, fk := range testutil.FaultKinds {
			fmt.Fprintf(&b, "| %s | %s |", rk.name, fk)
			for _, op := range operations {
				cell, ok := results[op+"|"+rk.name+"|"+string(fk)]
				if !ok {
					cell = "not run"
				}
				if len(cell) > 80 {
					cell = cell[:80] + "…"
				}
				counts[strings.SplitN(cell, ":", 2)[0]]++
				fmt.Fprintf(&b, " %s |", strings.ReplaceAll(cell, "|", "/"))
			}
			b.WriteString("\n")
		}
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "\n%s: %d", k, counts[k])
	}
	return b.String() + "\n"
}
