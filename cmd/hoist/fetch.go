package main

import (
	"context"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
)

// fetchManifest reads and decodes manifest desc from r, verified.
func fetchManifest(ctx context.Context, r store.Reader, desc ocispec.Descriptor) (*content.Manifest, error) {
	rc, err := r.Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	m, err := content.ReadManifest(rc, desc.MediaType, content.DefaultMaxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	if err := m.Verify(desc.Digest); err != nil {
		return nil, err
	}
	return m, nil
}
