package store

import (
	"context"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ManifestResolver is a Reader that resolves a reference and reads the
// manifest it names in one step, as a registry answers one GET of a
// manifest by tag with its bytes and digest. The copy engine and the
// one-call reads (package hoist's Manifest, Inspect) use it for the root
// of what they read, saving the round trip of Resolve followed by Fetch.
type ManifestResolver interface {
	// ResolveManifest is Resolve(ctx, ref) followed by Fetch of the
	// manifest it resolved to: the descriptor (media type, digest, size)
	// and the manifest's bytes, which hash to the descriptor's digest (the
	// store has checked). Errors are Resolve's and Fetch's.
	ResolveManifest(ctx context.Context, ref string) (ocispec.Descriptor, []byte, error)
}
