//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store/ocilayout"
)

// loadLayout writes an OCI layout of n images tagged img0..img(n-1). Each
// image has a unique config, one of the shared layers and one layer of its
// own, so clients pushing at once race on the shared blobs.
func loadLayout(t *testing.T, dir, seed string, n int, shared [][]byte) map[string]digest.Digest {
	t.Helper()
	ctx := context.Background()
	l, err := ocilayout.Create(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	push := func(mt string, b []byte) ocispec.Descriptor {
		d := content.NewDescriptor(mt, b)
		if err := l.Push(ctx, d, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	want := map[string]digest.Digest{}
	for i := range n {
		own := make([]byte, 32<<10+i)
		r := rand.New(rand.NewPCG(uint64(len(seed)), uint64(i)))
		for j := range own {
			own[j] = byte(r.Uint32())
		}
		copy(own, seed)
		layers := []ocispec.Descriptor{
			push(ocispec.MediaTypeImageLayerGzip, shared[i%len(shared)]),
			push(ocispec.MediaTypeImageLayerGzip, own),
		}
		cfg := push(ocispec.MediaTypeImageConfig, fmt.Appendf(nil, `{"architecture":"amd64","os":"linux","config":{"Env":["IMAGE=%s-%d"]}}`, seed, i))
		m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: layers}
		m.SchemaVersion = 2
		raw, _ := json.Marshal(m)
		md := push(ocispec.MediaTypeImageManifest, raw)
		tag := "img" + strconv.Itoa(i)
		if err := l.Tag(ctx, md, tag); err != nil {
			t.Fatal(err)
		}
		want[tag] = md.Digest
	}
	return want
}

// peakRSSKiB reads a process's peak resident set (VmHWM).
func peakRSSKiB(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// ageBlobs sets the modification time of everything under root to 2h ago,
// as if it had been there that long.
func ageBlobs(t *testing.T, root string) {
	t.Helper()
	old := time.Now().Add(-2 * time.Hour)
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			os.Chtimes(p, old, old)
		}
		return nil
	})
}

// TestServeLoad: 16 hoist clients at once each push and then pull 20
// images (with layers shared between them) while GC runs repeatedly on the
// same root. Every digest must come back, nothing referenced may go, the
// garbage planted before the run must go, and the server must stay under
// 200 MiB resident.
func TestServeLoad(t *testing.T) {
	const clients, images = 16, 20
	dir := t.TempDir()
	port := testutil.FreePort(t)
	root := filepath.Join(dir, "registry")
	host := "127.0.0.1:" + strconv.Itoa(port)
	srv := testutil.StartProcess(t, port, hoistBin, "serve", "--addr", host, "--root", root, "--access-log", "")
	env := []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}

	// Garbage from "earlier": blobs nobody refers to, aged past the grace.
	garbage := filepath.Join(dir, "garbage")
	loadLayout(t, garbage, "garbage", 3, [][]byte{[]byte("garbage shared layer")})
	for i := range 3 {
		if _, stderr, code := runHoist(t, env, "-q", "copy", "oci:"+garbage+":img"+strconv.Itoa(i), host+"/garbage/x:v"+strconv.Itoa(i)); code != 0 {
			t.Fatalf("pushing the garbage: %s", stderr)
		}
	}
	for i := range 3 {
		runHoist(t, env, "delete", host+"/garbage/x:v"+strconv.Itoa(i))
	}
	ageBlobs(t, root)

	shared := make([][]byte, 4)
	for i := range shared {
		shared[i] = bytes.Repeat([]byte{byte('A' + i)}, 256<<10)
	}
	wants := make([]map[string]digest.Digest, clients)
	for c := range clients {
		wants[c] = loadLayout(t, filepath.Join(dir, "src", strconv.Itoa(c)), "client"+strconv.Itoa(c), images, shared)
	}

	stopGC := gcDuring(300*time.Millisecond, "--json", "serve", "gc", "--root", root, "--grace", "1m")

	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, clients*images*2)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := filepath.Join(dir, "src", strconv.Itoa(c))
			out := filepath.Join(dir, "out", strconv.Itoa(c))
			repo := host + "/load/client" + strconv.Itoa(c)
			for i := range images {
				tag := "img" + strconv.Itoa(i)
				for _, args := range [][]string{
					{"-q", "copy", "oci:" + src + ":" + tag, repo + ":" + tag},
					{"-q", "copy", repo + ":" + tag, "oci:" + out + ":" + tag},
				} {
					cmd := exec.Command(hoistBin, args...)
					cmd.Env = append(os.Environ(), env...)
					var so, se bytes.Buffer
					cmd.Stdout, cmd.Stderr = &so, &se
					if err := cmd.Run(); err != nil {
						errs <- fmt.Errorf("client %d: hoist %s: %v\n%s", c, strings.Join(args, " "), err, se.String())
						return
					}
					if got := strings.TrimSpace(so.String()); got != wants[c][tag].String() {
						errs <- fmt.Errorf("client %d %s: got %s, want %s", c, tag, got, wants[c][tag])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	reports := stopGC().reports
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d clients × %d images pushed and pulled in %v; %d GC runs during the load, the last: %s",
		clients, images, elapsed.Round(time.Millisecond), len(reports), strings.Join(strings.Fields(reports[len(reports)-1]), " "))
	removed := gcRemoved(t, reports)
	// The planted garbage: 3 manifests, 3 configs, 3 layers of their own
	// and 1 shared layer.
	if removed != 10 {
		t.Errorf("GC during the load removed %d blobs, want the 10 planted", removed)
	}

	// After the load: exactly the referenced blobs are stored, and every
	// image pulls again from the storage GC has been over.
	if n, want := countBlobs(t, root), clients*images*3+len(shared); n != want {
		t.Errorf("%d blobs stored after the load, want %d (a manifest, a config and a layer per image, and %d shared layers)", n, want, len(shared))
	}
	var vwg sync.WaitGroup
	verr := make(chan error, clients)
	for c := range clients {
		vwg.Add(1)
		go func() {
			defer vwg.Done()
			for tag, want := range wants[c] {
				cmd := exec.Command(hoistBin, "-q", "copy", host+"/load/client"+strconv.Itoa(c)+":"+tag, "oci:"+filepath.Join(dir, "verify", strconv.Itoa(c))+":"+tag)
				cmd.Env = append(os.Environ(), env...)
				got, err := cmd.Output()
				if err != nil || strings.TrimSpace(string(got)) != want.String() {
					verr <- fmt.Errorf("after the load, client %d %s: %q %v", c, tag, got, err)
					return
				}
			}
		}()
	}
	vwg.Wait()
	close(verr)
	for err := range verr {
		t.Error(err)
	}
	rss := peakRSSKiB(t, srv.Process.Pid)
	t.Logf("hoist serve peak RSS: %.1f MiB", float64(rss)/1024)
	if rss > 200<<10 {
		t.Errorf("hoist serve peak RSS %.1f MiB, over 200 MiB", float64(rss)/1024)
	}
}

// gcRuns is what gcDuring saw.
type gcRuns struct {
	reports []string        // each run's report (stdout), and "gc failed: ..." if one failed
	took    []time.Duration // how long each run took
}

// gcDuring runs hoist with args (a serve gc) every interval, from now
// until a run fails or the function it returns is called; that function
// waits for the run under way and returns what the runs saw.
func gcDuring(every time.Duration, args ...string) func() gcRuns {
	stop := make(chan struct{})
	done := make(chan gcRuns, 1)
	go func() {
		var runs gcRuns
		defer func() { done <- runs }()
		for {
			select {
			case <-stop:
				return
			case <-time.After(every):
			}
			// The report is stdout; stderr is for logs.
			t0 := time.Now()
			out, err := exec.Command(hoistBin, args...).Output()
			runs.took = append(runs.took, time.Since(t0))
			runs.reports = append(runs.reports, strings.TrimSpace(string(out)))
			if err != nil {
				msg := "gc failed: " + err.Error()
				if ee, ok := err.(*exec.ExitError); ok {
					msg += ": " + strings.TrimSpace(string(ee.Stderr))
				}
				runs.reports = append(runs.reports, msg)
				return
			}
		}
	}()
	return func() gcRuns {
		close(stop)
		return <-done
	}
}

// gcRemoved is how many blobs the GC runs of reports removed in all; a
// run that failed fails the test.
func gcRemoved(t *testing.T, reports []string) int {
	t.Helper()
	for _, r := range reports {
		if strings.HasPrefix(r, "gc failed") {
			t.Fatal(r)
		}
	}
	removed := 0
	for _, r := range reports {
		var rep struct{ BlobsRemoved int }
		if err := json.Unmarshal([]byte(r), &rep); err != nil {
			t.Fatalf("gc during the load printed %q: %v", r, err)
		}
		removed += rep.BlobsRemoved
	}
	return removed
}

// countBlobs counts the blobs stored under a hoist serve root.
func countBlobs(t *testing.T, root string) int {
	t.Helper()
	n := 0
	filepath.Walk(filepath.Join(root, "hoist", "blobs"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Name() == "data" {
			n++
		}
		return nil
	})
	return n
}
