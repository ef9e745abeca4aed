package ocilayout_test

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
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/ocilayout"
)

// Write an image into a new layout, children first, then tag it and read
// it back by tag.
func Example() {
	ctx := context.Background()
	tmp, _ := os.MkdirTemp("", "layout")
	defer os.RemoveAll(tmp)

	l, err := ocilayout.Create(ctx, filepath.Join(tmp, "app"))
	if err != nil {
		log.Fatal(err)
	}
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	cd := content.NewDescriptor(content.MediaTypeOCIConfig, config)
	m, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: content.MediaTypeOCIManifest, Config: cd, Layers: []ocispec.Descriptor{}})
	md := content.NewDescriptor(content.MediaTypeOCIManifest, m)
	for _, p := range []struct {
		d ocispec.Descriptor
		b []byte
	}{{cd, config}, {md, m}} {
		if err := l.Push(ctx, p.d, bytes.NewReader(p.b)); err != nil {
			log.Fatal(err)
		}
	}
	if err := l.Tag(ctx, md, "v1"); err != nil {
		log.Fatal(err)
	}

	got, err := l.Resolve(ctx, "v1")
	if err != nil {
		log.Fatal(err)
	}
	tags, _ := l.Tags(ctx, store.Page{})
	fmt.Println(got.Digest == md.Digest, tags)
	// Output: true [v1]
}
