package cli

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// hoist tag writes the manifest under the new tag and moves no blob.
func TestTagMovesNoBlob(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	var blobRequests atomic.Int32
	reg := testutil.NewRegistry(t, testutil.WithMiddleware(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/blobs/") {
				blobRequests.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	}))
	repo := reg.Host + "/team/app"
	d := pushImage(t, "tag", repo+":v1.2.3")
	blobRequests.Store(0)

	out, stderr, code := hoist(t, "", "tag", repo+":v1.2.3", "v1")
	if code != 0 || strings.TrimSpace(out) != "Tagged "+repo+":v1@"+d {
		t.Fatalf("tag: %d %q %s", code, out, stderr)
	}
	if n := blobRequests.Load(); n != 0 {
		t.Errorf("tag made %d blob requests; it must move none", n)
	}
	out, _, code = hoist(t, "", "-q", "tag", repo+"@"+d, repo+":stable")
	if code != 0 || strings.TrimSpace(out) != d {
		t.Fatalf("tag -q by digest to a full reference: %d %q", code, out)
	}
	out, _, _ = hoist(t, "", "--json", "tag", repo+":v1", "latest")
	var doc tagDoc
	if json.Unmarshal([]byte(out), &doc) != nil || doc != (tagDoc{Source: repo + ":v1", Target: repo + ":latest", Digest: d}) {
		t.Errorf("tag --json: %s", out)
	}
	for _, tag := range []string{"v1", "stable", "latest"} {
		if out, _, _ := hoist(t, "", "digest", repo+":"+tag); strings.TrimSpace(out) != d {
			t.Errorf("%s resolves to %q; want %s", tag, out, d)
		}
	}

	// Another repository is a copy, not a tag; a digest is no tag.
	for _, args := range [][]string{{"tag", repo + ":v1", reg.Host + "/other/app:v1"}, {"tag", repo + ":v1", repo + "@" + d}, {"tag", repo + ":v1", "bad tag"}, {"tag", "oci:./x:v1", "v2"}} {
		if _, stderr, code := hoist(t, "", args...); code != exitUsage {
			t.Errorf("hoist %v: exit %d %s; want a usage error", args, code, stderr)
		}
	}
}

// hoist untag removes one tag and keeps the manifest and its other tags.
func TestUntag(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	for _, host := range []string{ggcrRegistry(t), testutil.NewRegistry(t).Host} {
		repo := host + "/team/app"
		d := pushImage(t, "untag", repo+":v1")
		hoist(t, "", "tag", repo+":v1", "rc1")
		out, stderr, code := hoist(t, "", "untag", repo+":rc1")
		if code != 0 || strings.TrimSpace(out) != "Untagged "+repo+":rc1 (was "+d+")" || stderr != "" {
			t.Fatalf("untag on %s: %d %q %s", host, code, out, stderr)
		}
		if _, _, code := hoist(t, "", "digest", repo+":rc1"); code != 1 {
			t.Errorf("rc1 still resolves after untag")
		}
		if out, _, _ := hoist(t, "", "digest", repo+":v1"); strings.TrimSpace(out) != d {
			t.Errorf("v1 after untagging rc1: %q; want %s", out, d)
		}
		if out, _, _ := hoist(t, "", "digest", repo+"@"+d); strings.TrimSpace(out) != d {
			t.Errorf("the manifest after untag: %q; want %s", out, d)
		}
	}
	if _, stderr, code := hoist(t, "", "untag", "localhost:5000/team/app@sha256:"+strings.Repeat("a", 64)); code != exitUsage {
		t.Errorf("untag of a digest: exit %d %s; want 2", code, stderr)
	}
}

// A registry that deletes manifests only refuses DELETE by tag: untag
// says so, and what to do instead.
func TestUntagRefused(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	repo := testutil.DockerRegistry(t) + "/team/app"
	d := pushImage(t, "untag-refused", repo+":v1")
	_, stderr, code := hoist(t, "", "untag", repo+":v1")
	if code != 1 || !strings.Contains(stderr, "does not delete tags") || !strings.Contains(stderr, "hoist delete "+repo+":v1") {
		t.Fatalf("untag on distribution 2.8: %d %s", code, stderr)
	}
	if out, _, _ := hoist(t, "", "digest", repo+":v1"); strings.TrimSpace(out) != d {
		t.Errorf("v1 after a refused untag: %q; want %s", out, d)
	}
	_, stderr, _ = hoist(t, "", "--json", "untag", repo+":v1")
	var e jsonError
	if json.Unmarshal([]byte(stderr), &e) != nil || e.Kind != kindUnsupported || e.ExitCode != 1 {
		t.Errorf("untag --json error: %s", stderr)
	}
}
