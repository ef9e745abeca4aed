package distribution

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/testutil"
)

// client returns a Registry client for a test server's host:port over
// plain http.
func client(t testing.TB, host string, opts ...Option) *Registry {
	t.Helper()
	reg, err := NewRegistry(host, append([]Option{WithPlainHTTP()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// repo returns a Repository client for name on a fresh in-process
// distribution registry, and the registry.
func repo(t testing.TB, name string, opts ...Option) (*Repository, *testutil.Registry) {
	t.Helper()
	srv := testutil.NewRegistry(t)
	return mustRepo(t, client(t, srv.Host, opts...), name), srv
}

func mustRepo(t testing.TB, reg *Registry, name string) *Repository {
	t.Helper()
	r, err := reg.Repository(name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// image is a pushed (or to-be-pushed) single-platform image.
type image struct {
	config   []byte
	layers   [][]byte
	manifest []byte
	desc     ocispec.Descriptor
}

// newImage builds an OCI image with random layers of the given sizes.
func newImage(t testing.TB, platform *ocispec.Platform, sizes ...int) *image {
	t.Helper()
	img := &image{}
	cfg := ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}}
	if platform != nil {
		cfg.Platform = *platform
	}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: content.MediaTypeOCIManifest}
	for _, n := range sizes {
		l := randomBytes(t, n)
		img.layers = append(img.layers, l)
		m.Layers = append(m.Layers, content.NewDescriptor(content.MediaTypeOCILayerGzip, l))
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.FromBytes(l))
	}
	cfg.RootFS.Type = "layers"
	img.config = mustJSON(t, cfg)
	m.Config = content.NewDescriptor(content.MediaTypeOCIConfig, img.config)
	img.manifest = mustJSON(t, m)
	img.desc = content.NewDescriptor(content.MediaTypeOCIManifest, img.manifest)
	if platform != nil {
		img.desc.Platform = platform
	}
	return img
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "   ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// push uploads the image's blobs and manifest under tag.
func (img *image) push(t testing.TB, r *Repository, tag string) {
	t.Helper()
	ctx := context.Background()
	for _, l := range img.layers {
		if err := r.PushBlob(ctx, content.NewDescriptor(content.MediaTypeOCILayerGzip, l), bytes.NewReader(l)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.PushBlob(ctx, content.NewDescriptor(content.MediaTypeOCIConfig, img.config), bytes.NewReader(img.config)); err != nil {
		t.Fatal(err)
	}
	if tag == "" {
		tag = img.desc.Digest.String()
	}
	if _, err := r.PutManifest(ctx, tag, content.MediaTypeOCIManifest, img.manifest); err != nil {
		t.Fatal(err)
	}
}

// readBlob reads blob d through the client and fails the test on error.
func readBlob(t testing.TB, r *Repository, d ocispec.Descriptor) []byte {
	t.Helper()
	rc, err := r.Blob(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lines collects strings from server goroutines for the test to read.
type lines struct {
	mu sync.Mutex
	l  []string
}

func (l *lines) add(s string) {
	l.mu.Lock()
	l.l = append(l.l, s)
	l.mu.Unlock()
}

func (l *lines) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.l)
}

func (l *lines) reset() {
	l.mu.Lock()
	l.l = nil
	l.mu.Unlock()
}

// rawGet does a bare GET, to check what the registry holds without going
// through the code under test.
func rawGet(t testing.TB, url string, accept string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}
