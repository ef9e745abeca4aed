package remote

import (
	"context"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/store"
)

// Referrers lists the manifests whose subject is subject
// (store.ReferrerLister), with the referrers API or, where the registry
// lacks it, the referrers tag (see distribution.Repository.Referrers).
func (r *Repository) Referrers(ctx context.Context, subject digest.Digest, artifactType string) ([]ocispec.Descriptor, error) {
	list, err := r.repo.Referrers(ctx, ocispec.Descriptor{Digest: subject}, artifactType)
	if err != nil {
		return nil, notFound(err, r.ref.Name()+"@"+subject.String())
	}
	if list == nil {
		list = []ocispec.Descriptor{}
	}
	return list, nil
}

var _ store.ReferrerLister = (*Repository)(nil)
