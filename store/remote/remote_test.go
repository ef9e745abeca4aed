package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/copy"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/transport"
)

var ctx = context.Background()

func open(t *testing.T, ref string) *Repository {
	t.Helper()
	r, err := reference.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	repo, err := New(r, transport.NewClient(transport.New()))
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// pushImage writes a small image into repo with the store's own Push/Tag.
func pushImage(t *testing.T, repo *Repository, tag string, layers ...string) ocispec.Descriptor {
	t.Helper()
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	cd := content.NewDescriptor(content.MediaTypeOCIConfig, cfg)
	if err := repo.Push(ctx, cd, bytes.NewReader(cfg)); err != nil {
		t.Fatal(err)
	}
	m := ocispec.Manifest{MediaType: content.MediaTypeOCIManifest, Config: cd}
	m.SchemaVersion = 2
	for _, l := range layers {
		ld := content.NewDescriptor(content.MediaTypeOCILayerGzip, []byte(l))
		if err := repo.Push(ctx, ld, bytes.NewReader([]byte(l))); err != nil {
			t.Fatal(err)
		}
		m.Layers = append(m.Layers, ld)
	}
	raw, _ := json.Marshal(m)
	md := content.NewDescriptor(content.MediaTypeOCIManifest, raw)
	if err := repo.Push(ctx, md, bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	if err := repo.Tag(ctx, md, tag); err != nil {
		t.Fatal(err)
	}
	return md
}

func TestStoreAgainstRegistry(t *testing.T) {
	reg := testutil.NewRegistry(t)
	other := testutil.NewRegistry(t)
	a := open(t, reg.Host+"/team/a:v1")
	md := pushImage(t, a, "v1", "layer one", "layer two")

	got, err := a.Resolve(ctx, "")
	if err != nil || got.Digest != md.Digest || got.MediaType != content.MediaTypeOCIManifest {
		t.Fatalf("Resolve: %+v %v", got, err)
	}
	if _, err := a.Resolve(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing tag: %v; want store.ErrNotFound", err)
	}
	tags, err := a.Tags(ctx, store.Page{})
	if err != nil || len(tags) != 1 || tags[0] != "v1" {
		t.Fatalf("Tags: %v %v", tags, err)
	}

	// Within the registry: mounted.
	b := open(t, reg.Host+"/team/b:v1")
	res, err := copy.New().Copy(ctx, a, "", b, "v1")
	if err != nil || res.Mounted != 3 || res.Transferred != 0 {
		t.Fatalf("copy to team/b: %+v %v", res, err)
	}
	// To another registry: transferred, then a second copy skips.
	c := open(t, other.Host+"/team/c:v1")
	res, err = copy.New().Copy(ctx, a, "", c, "v1")
	if err != nil || res.Transferred != 3 {
		t.Fatalf("copy to the other registry: %+v %v", res, err)
	}
	if d, err := c.Resolve(ctx, "v1"); err != nil || d.Digest != md.Digest {
		t.Fatalf("target tag: %+v %v", d, err)
	}

	// A suffix read for resumes.
	m := ocispec.Manifest{}
	rc, _ := c.Fetch(ctx, md)
	json.NewDecoder(rc).Decode(&m)
	rc.Close()
	rc, err = c.FetchFrom(ctx, m.Layers[0], 3)
	if err != nil {
		t.Fatal(err)
	}
	buf := new(bytes.Buffer)
	buf.ReadFrom(rc)
	rc.Close()
	if buf.String() != "er one" {
		t.Fatalf("FetchFrom(3) = %q", buf.String())
	}
}
