package syncer

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// barrier holds each manifest HEAD until n are in flight together (or
// a bound passes), and remembers the most it saw at once.
type barrier struct {
	n       int
	mu      sync.Mutex
	armed   bool
	in, top int
	full    chan struct{}
}

func (b *barrier) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodHead || !strings.Contains(r.URL.Path, "/manifests/") {
			h.ServeHTTP(w, r)
			return
		}
		b.mu.Lock()
		if !b.armed {
			b.mu.Unlock()
			h.ServeHTTP(w, r)
			return
		}
		b.in++
		b.top = max(b.top, b.in)
		if b.in == b.n {
			close(b.full)
		}
		full := b.full
		b.mu.Unlock()
		select {
		case <-full:
		case <-time.After(10 * time.Second): // a bound, not a measure
		}
		h.ServeHTTP(w, r)
		b.mu.Lock()
		b.in--
		b.mu.Unlock()
	})
}

// TestNoOpHeadsOutsideImageSlots: a re-run resolves its tags with HEADs
// bounded by the host's concurrency only; the images-at-once bound is
// for copies, so defaults.images 1 does not put the HEADs in a line.
func TestNoOpHeadsOutsideImageSlots(t *testing.T) {
	const tags = 6
	b := &barrier{n: tags, full: make(chan struct{})}
	src := testutil.NewRegistry(t, testutil.WithMiddleware(b.wrap))
	dst := testutil.NewRegistry(t)
	for i := range tags {
		pushImage(t, src.Host, "app", fmt.Sprintf("1.%d.0", i), testutil.NewImage(t, testutil.ImageSpec{Seed: fmt.Sprint("noop", i)}))
	}
	cfg := mustParse(t, fmt.Sprintf("defaults: {images: 1}\nsync: [{source: %s, repositories: [app], target: %s/mirror}]\n", src.Host, dst.Host))
	st, err := OpenState(filepath.Join(t.TempDir(), "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sy, _ := New(newEnv(), cfg, WithState(st))
	if res, err := sy.Run(ctx); err != nil || res.Copied != tags {
		t.Fatalf("first run: %v %+v", err, res)
	}
	b.mu.Lock()
	b.armed = true
	b.mu.Unlock()
	sy, _ = New(newEnv(), cfg, WithState(st))
	res, err := sy.Run(ctx)
	if err != nil || res.Skipped != tags {
		t.Fatalf("rerun: %v %+v", err, res)
	}
	if b.top != tags {
		t.Errorf("rerun: at most %d manifest HEADs in flight at once, want all %d (images: 1 bounds copies, not checks)", b.top, tags)
	}
}
