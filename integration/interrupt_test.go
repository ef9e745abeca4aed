//go:build integration

package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store/ocilayout"
)

// throttled passes responses through at about rate bytes per second.
type throttled struct {
	http.ResponseWriter
	rate int
}

func (w throttled) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := min(len(p), 32<<10)
		m, err := w.ResponseWriter.Write(p[:chunk])
		n += m
		if err != nil {
			return n, err
		}
		w.ResponseWriter.(http.Flusher).Flush()
		time.Sleep(time.Duration(chunk) * time.Second / time.Duration(w.rate))
		p = p[chunk:]
	}
	return n, nil
}

// TestPullKilledHalfway SIGKILLs hoist halfway through a pull, checks that
// no partial blob was ever visible under blobs/, and that a second run
// completes from where the first stopped with a valid layout.
func TestPullKilledHalfway(t *testing.T) {
	skopeo := testutil.NeedBinary(t, "skopeo", "apt-get install skopeo")
	reg := testutil.DockerRegistry(t)
	dir := t.TempDir()
	env := []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}

	// A 48 MB image, pushed with hoist.
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "kill", Layers: 3, LayerBytes: 16 << 20})
	ctx := context.Background()
	src, err := ocilayout.Create(ctx, filepath.Join(dir, "src"))
	if err != nil {
		t.Fatal(err)
	}
	if err := testutil.CopyGraph(ctx, img, img.Root, src); err != nil {
		t.Fatal(err)
	}
	src.Tag(ctx, img.Root, "v1")
	if _, stderr, code := runHoist(t, env, "push", "oci:"+filepath.Join(dir, "src")+":v1", reg+"/big/app:v1"); code != 0 {
		t.Fatal(stderr)
	}
	var total int64
	for _, l := range img.Layers[0] {
		total += l.Size
	}

	// A slow path to it, so the pull can be caught in the middle.
	target, _ := url.Parse("http://" + reg)
	rp := httputil.NewSingleHostReverseProxy(target)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.ServeHTTP(throttled{w, 8 << 20}, r)
	}))
	defer slow.Close()
	slowHost := slow.Listener.Addr().String()

	out := filepath.Join(dir, "out")
	var mu sync.Mutex
	var violations []string
	checked := map[string]bool{}
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() { // every blob visible under blobs/ must be whole and right
		defer close(watched)
		for {
			entries, _ := os.ReadDir(filepath.Join(out, "blobs", "sha256"))
			for _, e := range entries {
				if checked[e.Name()] {
					continue
				}
				b, err := os.ReadFile(filepath.Join(out, "blobs", "sha256", e.Name()))
				sum := sha256.Sum256(b)
				if err == nil && hex.EncodeToString(sum[:]) != e.Name() {
					mu.Lock()
					violations = append(violations, e.Name())
					mu.Unlock()
				}
				checked[e.Name()] = true
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()

	cmd := exec.Command(hoistBin, "pull", "--concurrency", "3", slowHost+"/big/app:v1", "oci:"+out+":v1")
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if staged(filepath.Join(out, ".hoist-tmp")) > total/2 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the pull never got halfway")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(out, "index.json")); err == nil {
		b, _ := os.ReadFile(filepath.Join(out, "index.json"))
		var ix struct{ Manifests []json.RawMessage }
		json.Unmarshal(b, &ix)
		if len(ix.Manifests) != 0 {
			t.Fatalf("the killed pull tagged the image: %s", b)
		}
	}

	// Re-run at full speed: it completes, resuming what was staged.
	stdout, stderr, code := runHoist(t, env, "--json", "pull", reg+"/big/app:v1", "oci:"+out+":v1")
	close(stop)
	<-watched
	if code != 0 {
		t.Fatalf("second pull: %d %s", code, stderr)
	}
	var res struct {
		Digest string
		Bytes  int64
	}
	json.Unmarshal([]byte(stdout), &res)
	if res.Digest != img.Root.Digest.String() {
		t.Fatalf("second pull gave %s, want %s", res.Digest, img.Root.Digest)
	}
	t.Logf("second pull transferred %d of %d layer bytes", res.Bytes, total)
	if res.Bytes >= total {
		t.Errorf("second pull transferred %d bytes of %d: nothing was resumed", res.Bytes, total)
	}
	mu.Lock()
	if len(violations) > 0 {
		t.Fatalf("partial or wrong blobs were visible under blobs/: %v", violations)
	}
	mu.Unlock()
	var si struct{ Digest string }
	o, err := exec.Command(skopeo, "inspect", "oci:"+out+":v1").CombinedOutput()
	if err != nil || json.Unmarshal(o, &si) != nil || si.Digest != img.Root.Digest.String() {
		t.Fatalf("skopeo inspect of the resumed layout: %v %s", err, o)
	}
	for _, l := range img.Layers[0] {
		f, err := os.Open(filepath.Join(out, "blobs", "sha256", l.Digest.Encoded()))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		io.Copy(h, f)
		f.Close()
		if "sha256:"+hex.EncodeToString(h.Sum(nil)) != l.Digest.String() {
			t.Fatalf("layer %s is wrong after the resume", l.Digest)
		}
	}
}

// staged is how many bytes the files under dir hold on disk.
func staged(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			// Bytes on disk, not lengths: a blob fetched in ranged
			// sections is staged as a sparse file whose length is the
			// end of its furthest section.
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				n += min(fi.Size(), st.Blocks*512)
			} else {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
