package cli

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// countingRegistry counts the requests it serves by method and API kind.
func countingRegistry(t *testing.T) (*testutil.Registry, func() map[string]int) {
	var mu sync.Mutex
	counts := map[string]int{}
	reg := testutil.NewRegistry(t, testutil.WithMiddleware(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			kind := "other"
			for _, k := range []string{"/manifests/", "/blobs/uploads/", "/blobs/", "/tags/list"} {
				if strings.Contains(r.URL.Path, k) {
					kind = k
					break
				}
			}
			if r.URL.Path == "/v2/" {
				kind = "/v2/"
			}
			mu.Lock()
			counts[r.Method+" "+kind]++
			mu.Unlock()
			h.ServeHTTP(w, r)
		})
	}))
	return reg, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]int{}
		for k, v := range counts {
			out[k] = v
			delete(counts, k)
		}
		return out
	}
}

// Copying into a repository that does not exist yet needs no existence
// checks, and the root manifest goes up once, under its tag.
func TestCopyRequestCounts(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	src := testutil.NewRegistry(t)
	dst, counts := countingRegistry(t)
	for i := range 5 {
		img := testutil.NewImage(t, testutil.ImageSpec{Seed: fmt.Sprint("count ", i)})
		dir := filepath.Join(t.TempDir(), "l")
		layoutWith(t, dir, "v1", img)
		if _, stderr, code := hoist(t, "", "push", dir, src.Host+fmt.Sprintf("/a/b:t%d", i)); code != 0 {
			t.Fatal(stderr)
		}
	}
	if _, stderr, code := hoist(t, "", "copy", "--all-tags", src.Host+"/a/b", dst.Host+"/a/b"); code != 0 {
		t.Fatal(stderr)
	}
	got := counts()
	// No GET /v2/: the target's one-tag listing (for Empty) teaches the
	// protocol and that no authentication is asked for.
	want := map[string]int{"GET /v2/": 0, "GET /tags/list": 1, "POST /blobs/uploads/": 15, "PUT /blobs/uploads/": 15, "PUT /manifests/": 5}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %d requests, want %d (all: %v)", k, got[k], v, got)
		}
	}
	if got["HEAD /blobs/"]+got["HEAD /manifests/"] != 0 {
		t.Errorf("existence checks against a new repository: %v", got)
	}

	// Again, into the now full repository: one HEAD per tag (its tag already
	// names the manifest), nothing moves or is re-tagged.
	if _, stderr, code := hoist(t, "", "copy", "--all-tags", src.Host+"/a/b", dst.Host+"/a/b"); code != 0 {
		t.Fatal(stderr)
	}
	got = counts()
	if got["HEAD /manifests/"] != 5 || got["POST /blobs/uploads/"] != 0 || got["HEAD /blobs/"] != 0 || got["PUT /manifests/"] != 0 || got["GET /manifests/"] != 0 {
		t.Errorf("second copy: %v; want 5 manifest HEADs and no uploads", got)
	}
}

// hoist digest asks with one HEAD: registries such as Docker Hub count a
// manifest GET as a pull.
func TestDigestIsOneHead(t *testing.T) {
	reg, counts := countingRegistry(t)
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "digest head", Platforms: []string{"linux/amd64", "linux/arm64"}})
	dir := filepath.Join(t.TempDir(), "l")
	layoutWith(t, dir, "v1", img)
	if _, stderr, code := hoist(t, "", "push", dir, reg.Host+"/a/d:v1"); code != 0 {
		t.Fatal(stderr)
	}
	counts()
	out, stderr, code := hoist(t, "", "digest", reg.Host+"/a/d:v1")
	if code != 0 {
		t.Fatal(stderr)
	}
	if strings.TrimSpace(out) != img.Root.Digest.String() {
		t.Fatalf("digest printed %q, want %s", out, img.Root.Digest)
	}
	if got := counts(); got["HEAD /manifests/"] != 1 || len(got) != 1 {
		t.Fatalf("hoist digest sent %v; want one manifest HEAD and nothing else", got)
	}
}
