package remote

import (
	"context"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Stat returns the digest and size of blob d with a HEAD request, or an
// error matching store.ErrNotFound (store.Statter).
func (r *Repository) Stat(ctx context.Context, d digest.Digest) (ocispec.Descriptor, error) {
	desc, err := r.repo.BlobHead(ctx, d)
	if err != nil {
		return ocispec.Descriptor{}, notFound(err, d.String())
	}
	return desc, nil
}

// Delete removes desc (store.Deleter): a manifest or index by digest, which
// takes every tag naming it along, or a blob. The registry must allow
// deletion (distribution: storage.delete.enabled); one that does not
// answers with an error matching errdef.ErrUnsupported.
func (r *Repository) Delete(ctx context.Context, desc ocispec.Descriptor) error {
	var err error
	if isManifest(desc) {
		err = r.repo.DeleteManifest(ctx, desc.Digest.String())
	} else {
		err = r.repo.DeleteBlob(ctx, desc.Digest)
	}
	return notFound(err, desc.Digest.String())
}
