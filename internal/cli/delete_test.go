package cli

import (
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	ggcr "github.com/google/go-containerregistry/pkg/registry"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// ggcrRegistry starts go-containerregistry's registry, which deletes a
// manifest by digest but keeps the tags naming it, and deletes by tag.
func ggcrRegistry(t *testing.T) string {
	srv := httptest.NewServer(ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// pushImage pushes a new image made from seed to ref and returns its digest.
func pushImage(t *testing.T, seed, ref string) string {
	t.Helper()
	img, _ := pushNew(t, testutil.ImageSpec{Seed: seed}, ref)
	return img.Root.Digest.String()
}

// pushNew makes an image of spec, writes it into a new layout tagged v1
// and pushes it to ref; it returns the image and the layout's directory.
func pushNew(t *testing.T, spec testutil.ImageSpec, ref string) (*testutil.Image, string) {
	t.Helper()
	img := testutil.NewImage(t, spec)
	src := filepath.Join(t.TempDir(), "src")
	layoutWith(t, src, "v1", img)
	if _, stderr, code := hoist(t, "", "push", "oci:"+src+":v1", ref); code != 0 {
		t.Fatalf("push %s: %s", ref, stderr)
	}
	return img, src
}

// Issue 9, defect 5: delete must not exit 0 while the tag still resolves,
// and removes every tag naming the manifest, saying which.
func TestDeleteRemovesEveryTag(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	for _, tt := range []struct {
		name     string
		host     string
		untagged bool // the registry keeps tags after a delete by digest
	}{
		{"go-containerregistry", ggcrRegistry(t), true},
		{"distribution", testutil.NewRegistry(t).Host, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			repo := tt.host + "/team/app"
			d := pushImage(t, "delete", repo+":v1")
			if _, stderr, code := hoist(t, "", "tag", repo+":v1", "v2"); code != 0 {
				t.Fatalf("tag: %s", stderr)
			}
			other := pushImage(t, "other", repo+":v3")

			out, stderr, code := hoist(t, "", "delete", repo+":v1")
			if code != 0 {
				t.Fatalf("delete: exit %d\n%s%s", code, out, stderr)
			}
			if !strings.Contains(out, "Deleted "+repo+"@"+d) || !strings.Contains(out, "Removed tags: v1, v2") {
				t.Errorf("delete says:\n%s", out)
			}
			if got := strings.Contains(out, "hoist deleted them by tag"); got != tt.untagged {
				t.Errorf("delete says (untagged one by one: want %t):\n%s", tt.untagged, out)
			}
			for _, tag := range []string{"v1", "v2"} {
				if out, stderr, code := hoist(t, "", "digest", repo+":"+tag); code != 1 || !strings.Contains(stderr, "not found") {
					t.Errorf("%s after delete: exit %d %s%s", tag, code, out, stderr)
				}
			}
			if out, _, code := hoist(t, "", "digest", repo+":v3"); code != 0 || strings.TrimSpace(out) != other {
				t.Errorf("v3, another image, after the delete: exit %d %q; want %s", code, out, other)
			}
		})
	}
}

func TestDeleteJSON(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	repo := ggcrRegistry(t) + "/team/app"
	d := pushImage(t, "delete-json", repo+":v1")
	hoist(t, "", "tag", repo+":v1", "latest")
	out, stderr, code := hoist(t, "", "--json", "delete", repo+"@"+d)
	var doc deleteDoc
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("delete --json: %d %q %s", code, out, stderr)
	}
	if doc.Deleted != repo+"@"+d || strings.Join(doc.Tags, ",") != "latest,v1" || strings.Join(doc.Untagged, ",") != "latest,v1" {
		t.Errorf("delete --json = %+v", doc)
	}
}
