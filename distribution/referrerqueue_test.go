package distribution

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/testutil"
)

// Referrers of one subject pushed at once to a registry without the
// referrers API all end up in its referrers tag: the edits of the tag are
// queued and merged, not raced.
func TestReferrersTagConcurrentPushes(t *testing.T) {
	srv := testutil.NewRegistry(t)
	proxy := testutil.NewFaultProxy(t, srv.URL)
	r := mustRepo(t, client(t, proxy.Host), "signed/many")
	ctx := context.Background()
	img := newImage(t, nil, 100)
	img.push(t, r, "v1")
	cfg := []byte("{}")
	cd := content.NewDescriptor(content.MediaTypeOCIEmptyJSON, cfg)
	if err := r.PushBlob(ctx, cd, bytes.NewReader(cfg)); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			raw := mustJSON(t, ocispec.Manifest{
				Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: content.MediaTypeOCIManifest,
				ArtifactType: sigType, Config: cd, Layers: []ocispec.Descriptor{}, Subject: &img.desc,
				Annotations: map[string]string{"n": fmt.Sprint(i)},
			})
			_, err := r.PutManifest(ctx, content.NewDescriptor("", raw).Digest.String(), "", raw)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	list, err := r.Referrers(ctx, img.desc, "")
	if err != nil || len(list) != n {
		t.Fatalf("referrers after %d concurrent pushes: %d listed, %v", n, len(list), err)
	}
	puts := 0
	for _, q := range proxy.Requests() {
		if q.Method == "PUT" && strings.HasSuffix(q.Path, "/manifests/"+ReferrersTag(img.desc.Digest)) {
			puts++
		}
	}
	if puts == 0 || puts > n {
		t.Fatalf("%d writes of the referrers tag for %d referrers", puts, n)
	}
	t.Logf("%d referrers pushed at once: %d writes of the referrers tag", n, puts)
}
