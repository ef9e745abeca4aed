package archive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store/archive"
)

// Write an image as docker-archive:FILE:example/app:v1, then read it back
// by the name docker load would give it.
func Example() {
	ctx := context.Background()
	tmp, _ := os.MkdirTemp("", "archive")
	defer os.RemoveAll(tmp)
	path := filepath.Join(tmp, "app.tar")

	ref, _ := reference.Parse("example/app:v1")
	w, err := archive.Create(ctx, path, archive.WithReference(ref))
	if err != nil {
		log.Fatal(err)
	}
	defer w.Abort(ctx) // after a successful Close it does nothing
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	cd := content.NewDescriptor(content.MediaTypeDockerConfig, config)
	m, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: content.MediaTypeDockerManifest, Config: cd, Layers: []ocispec.Descriptor{}})
	md := content.NewDescriptor(content.MediaTypeDockerManifest, m)
	if err := w.Push(ctx, cd, bytes.NewReader(config)); err != nil {
		log.Fatal(err)
	}
	if err := w.Push(ctx, md, bytes.NewReader(m)); err != nil {
		log.Fatal(err)
	}
	if err := w.Tag(ctx, md, ""); err != nil { // "" is the reference's own tag
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	r, err := archive.Open(ctx, path)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	got, err := r.Resolve(ctx, "docker.io/example/app:v1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Digest == md.Digest, r.Images()[0].RepoTags)
	// Output: true [example/app:v1]
}
