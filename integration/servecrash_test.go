//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store/ocilayout"
)

// bigImage writes an OCI layout holding one image with a layer of size
// bytes, tagged v1, and returns the layer's descriptor.
func bigImage(t *testing.T, dir string, size int64) ocispec.Descriptor {
	t.Helper()
	ctx := context.Background()
	l, err := ocilayout.Create(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	big := testutil.NewBigBlob(t, size, ocispec.MediaTypeImageLayer)
	if err := l.Push(ctx, big.Desc, big.Reader()); err != nil {
		t.Fatal(err)
	}
	cfgRaw := []byte(`{"architecture":"amd64","os":"linux"}`)
	cfg := content.NewDescriptor(ocispec.MediaTypeImageConfig, cfgRaw)
	if err := l.Push(ctx, cfg, strings.NewReader(string(cfgRaw))); err != nil {
		t.Fatal(err)
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{big.Desc}}
	m.SchemaVersion = 2
	raw, _ := json.Marshal(m)
	md := content.NewDescriptor(ocispec.MediaTypeImageManifest, raw)
	if err := l.Push(ctx, md, strings.NewReader(string(raw))); err != nil {
		t.Fatal(err)
	}
	if err := l.Tag(ctx, md, "v1"); err != nil {
		t.Fatal(err)
	}
	return big.Desc
}

// uploadBytes sums the bytes held by uploads in progress under root.
func uploadBytes(root string) int64 {
	var n int64
	filepath.Walk(filepath.Join(root, "hoist", "repositories"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Name() == "data" && strings.Contains(p, "/_uploads/") {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// TestServeCrashMidPush SIGKILLs hoist serve while a push streams a large
// layer into it. At no moment may the layer be visible, on disk or over
// HTTP, before it is whole; after a restart on the same root the re-push
// completes and pulls back intact, and GC removes the dead upload.
func TestServeCrashMidPush(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "registry")
	src := filepath.Join(dir, "src")
	layer := bigImage(t, src, 256<<20)
	port := testutil.FreePort(t)
	host := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{"serve", "--addr", host, "--root", root, "--access-log", ""}
	env := []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}
	blobFile := filepath.Join(root, "hoist", "blobs", "sha256", layer.Digest.Encoded()[:2], layer.Digest.Encoded(), "data")
	blobURL := "http://" + host + "/v2/crash/big/blobs/" + layer.Digest.String()

	// Watch for a partial blob for the whole test: the data file must
	// never exist with fewer bytes than the layer has, and HEAD must never
	// report another size.
	var partial atomic.Value
	watchDone := make(chan struct{})
	stopWatch := make(chan struct{})
	go func() {
		defer close(watchDone)
		hc := &http.Client{Timeout: time.Second}
		for {
			select {
			case <-stopWatch:
				return
			case <-time.After(2 * time.Millisecond):
			}
			if fi, err := os.Stat(blobFile); err == nil && fi.Size() != layer.Size {
				partial.Store(fmt.Sprintf("blob file with %d of %d bytes", fi.Size(), layer.Size))
			}
			if resp, err := hc.Head(blobURL); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK && resp.ContentLength != layer.Size {
					partial.Store(fmt.Sprintf("HEAD answered %d bytes of %d", resp.ContentLength, layer.Size))
				}
			}
		}
	}()

	srv := testutil.StartProcess(t, port, hoistBin, args...)
	push := exec.Command(hoistBin, "-q", "copy", "oci:"+src+":v1", host+"/crash/big:v1")
	push.Env = append(os.Environ(), env...)
	if err := push.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for uploadBytes(root) < 32<<20 {
		if time.Now().After(deadline) {
			t.Fatal("the push never got 32 MiB into an upload")
		}
		time.Sleep(time.Millisecond)
	}
	got := uploadBytes(root)
	syscall.Kill(srv.Process.Pid, syscall.SIGKILL)
	push.Wait()
	t.Logf("killed the server with %d MiB of the %d MiB layer uploaded", got>>20, layer.Size>>20)
	if _, err := os.Stat(blobFile); err == nil {
		t.Fatal("the layer is in blobs/ although its upload was cut off")
	}

	// Restart on the same root; the blob is not there yet, and the
	// re-push completes.
	testutil.StartProcess(t, port, hoistBin, args...)
	if resp, err := http.Head(blobURL); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("after the restart, HEAD of the cut-off layer: %v %v, want 404", resp, err)
	}
	out, stderr, code := runHoist(t, env, "-q", "copy", "oci:"+src+":v1", host+"/crash/big:v1")
	if code != 0 {
		t.Fatalf("re-push after the restart: exit %d\n%s", code, stderr)
	}
	want := strings.TrimSpace(out)
	back, stderr, code := runHoist(t, env, "-q", "copy", host+"/crash/big:v1", "oci:"+filepath.Join(dir, "back")+":v1")
	if code != 0 || strings.TrimSpace(back) != want {
		t.Fatalf("pull after the re-push: %d %q %s", code, back, stderr)
	}
	close(stopWatch)
	<-watchDone
	if p := partial.Load(); p != nil {
		t.Fatalf("a partial blob was visible: %s", p)
	}

	// The killed upload is left over; once older than the grace, GC
	// removes it and keeps the image.
	if n := uploadBytes(root); n == 0 {
		t.Fatal("no leftover upload to collect (the test did not cut one off)")
	}
	ageBlobs(t, filepath.Join(root, "hoist", "repositories", "crash", "big", "_uploads"))
	gcOut, stderr, code := runHoist(t, nil, "--json", "serve", "gc", "--root", root, "--grace", "1m")
	var rep struct{ UploadsRemoved, BlobsRemoved int }
	if code != 0 || json.Unmarshal([]byte(gcOut), &rep) != nil || rep.UploadsRemoved < 1 || rep.BlobsRemoved != 0 {
		t.Fatalf("gc after the crash: exit %d %s %s", code, gcOut, stderr)
	}
	if n := uploadBytes(root); n != 0 {
		t.Fatalf("%d bytes of uploads left after gc", n)
	}
	if _, stderr, code := runHoist(t, env, "-q", "copy", host+"/crash/big:v1", "oci:"+filepath.Join(dir, "after-gc")+":v1"); code != 0 {
		t.Fatalf("pull after gc: %s", stderr)
	}
	t.Logf("gc removed %d abandoned upload(s); the image still pulls", rep.UploadsRemoved)
}
