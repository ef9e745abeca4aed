package copy

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/memory"
)

// heldSource counts its fetches, and holds every one but the root
// manifest's until release is closed.
type heldSource struct {
	store.Reader
	root    string
	release chan struct{}
	mu      sync.Mutex
	fetches map[string]int
}

func (h *heldSource) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	h.mu.Lock()
	h.fetches[d.Digest.String()]++
	h.mu.Unlock()
	if d.Digest.String() == h.root {
		return h.Reader.Fetch(ctx, d)
	}
	select {
	case <-h.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return h.Reader.Fetch(ctx, d)
}

// Copies of one image into five repositories of one registry, at once
// through one Copier: each blob is fetched and written once, into the
// first repository, and mounted from there into the other four.
func TestSiblingRepositoriesMountOnce(t *testing.T) {
	src := repo(t, "src.example", "team/app")
	img := addImage(t, src, false, "linux/amd64", "a layer every repository shares")
	tag(t, src, img, "v1")
	held := &heldSource{Reader: src, root: img.Digest.String(), release: make(chan struct{}), fetches: map[string]int{}}
	reg := memory.New(memory.WithRegistry("reg.example"))
	c := New()
	const n = 5
	var dsts []*mounter
	for i := range n {
		r, err := reg.Open(fmt.Sprintf("mirror/r%d", i))
		if err != nil {
			t.Fatal(err)
		}
		dsts = append(dsts, &mounter{memRepo: r})
	}
	var g errgroup.Group
	results := make([]*Result, n)
	for i, d := range dsts {
		g.Go(func() error {
			res, err := c.Copy(ctx, struct {
				store.Reader
			}{held}, img.Digest.String(), d, "v1")
			results[i] = res
			return err
		})
	}
	// Release the source once every blob has its first transfer under way
	// and the other copies wait for it (bounded: a copy that never comes
	// to wait fails the counts below instead).
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		waiting := 0
		for _, f := range c.siblings {
			waiting += f.waiting
		}
		c.mu.Unlock()
		if waiting == 2*(n-1) { // the config and the layer
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(held.release)
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	for d, k := range held.fetches {
		if k != 1 && d != img.Digest.String() {
			t.Errorf("blob %s fetched %d times, want once", d, k)
		}
	}
	mounts := 0
	for i, d := range dsts {
		mounts += len(d.mounts)
		if _, err := d.Resolve(ctx, "v1"); err != nil {
			t.Errorf("mirror/r%d:v1: %v", i, err)
		}
	}
	if mounts != 2*(n-1) {
		t.Errorf("%d mounts, want %d (two blobs into four repositories)", mounts, 2*(n-1))
	}
}
