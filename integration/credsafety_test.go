//go:build integration

package integration

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
)

// TestForeignLayerURLsGetNoCredentials: a manifest whose layer lists
// urls (a Windows base layer, or a hostile registry's bait) never makes
// hoist send the registry's credentials to those URLs
// (regclient GHSA-qvqc-4c52-x6qp); hoist does not fetch them at all.
func TestForeignLayerURLsGetNoCredentials(t *testing.T) {
	var mu sync.Mutex
	var bait []string // Authorization headers the urls host received
	baitSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		bait = append(bait, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Write([]byte("foreign bytes"))
	}))
	defer baitSrv.Close()

	img := hostileImage(t)
	var m ocispec.Manifest
	json.Unmarshal(img.Blobs[img.Root.Digest], &m)
	foreign := []byte("foreign bytes")
	m.Layers = append(m.Layers, ocispec.Descriptor{
		MediaType: content.MediaTypeDockerForeignLayer, Digest: digest.FromBytes(foreign), Size: int64(len(foreign)),
		URLs: []string{baitSrv.URL + "/layer.tar.gz"},
	})
	raw, _ := json.Marshal(m)
	img.Root = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
	img.Blobs[img.Root.Digest] = raw

	h := newHostile(t, img)
	authz := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:registry-secret"))
	h.on(`.`, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != authz {
			w.Header().Set("WWW-Authenticate", `Basic realm="hostile"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		h.honest(w, r)
	})
	cfg := t.TempDir()
	conf, _ := json.Marshal(map[string]any{"auths": map[string]any{h.host(): map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte("alice:registry-secret"))}}})
	os.WriteFile(filepath.Join(cfg, "config.json"), conf, 0o600)
	_, stderr, code := runHoist(t, []string{"DOCKER_CONFIG=" + cfg, "XDG_CACHE_HOME=" + t.TempDir()},
		"pull", h.host()+"/app:v1", "oci:"+filepath.Join(t.TempDir(), "out"))
	t.Logf("exit %d: %s", code, stderr)
	mu.Lock()
	defer mu.Unlock()
	for _, a := range bait {
		if a != "" {
			t.Errorf("the foreign layer's URL host received Authorization %q", a)
		}
	}
	if len(bait) != 0 {
		t.Errorf("hoist fetched the foreign layer's URL %d times", len(bait))
	}
	if h.count(`^GET /v2/app/manifests/`) == 0 {
		t.Fatal("the pull never reached the registry with its credentials")
	}
}
