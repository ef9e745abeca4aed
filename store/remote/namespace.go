package remote

import (
	"context"
	"fmt"
	"net/http"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/distribution"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
)

// Registry is a v2 registry as a store.Namespace: its catalog, and its
// repositories as Repository stores that share one protocol client (what
// it learns of the registry, such as a body cap, serves them all). It is
// safe for concurrent use.
type Registry struct {
	host   string
	reg    *distribution.Registry
	client *http.Client
	opts   []distribution.Option
}

var _ store.Namespace = (*Registry)(nil)

// NewRegistry returns the v2 registry host (host or host:port, as an image
// reference names it: docker.io for Docker Hub), reached with client,
// which must carry hoist's transport and auth for it. opts go to
// distribution.NewRegistry.
func NewRegistry(host string, client *http.Client, opts ...distribution.Option) (*Registry, error) {
	reg, err := distribution.NewRegistry(reference.APIHost(host), append([]distribution.Option{distribution.WithHTTPClient(client)}, opts...)...)
	if err != nil {
		return nil, store.InvalidLocation(err)
	}
	return &Registry{host: host, reg: reg, client: client, opts: opts}, nil
}

// OpenRegistry opens registry as a Namespace through env, which must say
// it speaks v2: v1 registries have no catalog and no repository API of
// this shape, and opening one is an error matching errdef.ErrUnsupported.
func OpenRegistry(ctx context.Context, env Env, registry string) (*Registry, error) {
	p, err := env.Protocol(ctx, registry)
	if err != nil {
		return nil, err
	}
	if p != V2 {
		return nil, fmt.Errorf("%s speaks only the legacy v1 protocol, which has no catalog: %w", registry, errdef.ErrUnsupported)
	}
	return NewRegistry(registry, env.RegistryClient(reference.APIHost(registry)))
}

// Host returns the registry host as given.
func (g *Registry) Host() string { return g.host }

// Distribution returns the protocol client that the registry and the
// repositories it opens share.
func (g *Registry) Distribution() *distribution.Registry { return g.reg }

// Repositories lists the registry's repositories that p selects, with the
// catalog API (GET /v2/_catalog), following its pagination (see
// distribution.Registry.Catalog). Many public registries refuse it; the
// error then says what they answered.
func (g *Registry) Repositories(ctx context.Context, p store.Page) ([]string, error) {
	names, err := g.reg.Catalog(ctx, distribution.ListOptions{Last: p.Last, Limit: p.N})
	if err != nil {
		return nil, err
	}
	if names == nil {
		names = []string{}
	}
	return names, nil
}

// Repository opens repository name of the registry, bound to no image:
// Resolve needs a tag or digest. An invalid name matches errdef.ErrInvalid.
func (g *Registry) Repository(ctx context.Context, name string) (store.Repository, error) {
	if err := reference.ValidateRepository(name); err != nil {
		return nil, fmt.Errorf("%w: repository %q: %v", errdef.ErrInvalid, name, err)
	}
	return newRepository(reference.Reference{Registry: g.host, Repository: name}, g.reg, g.client, g.opts, false)
}

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

var _ store.Repository = (*Repository)(nil)
