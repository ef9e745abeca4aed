package store

import (
	"context"
	"sort"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Page selects part of a sorted listing: the names after Last (all when
// Last is ""), at most N of them (all when N <= 0). A caller that wants to
// know whether more follow asks for one more than it shows.
type Page struct {
	Last string
	N    int
}

// Namespace is a store of many repositories: a registry, or the storage
// behind hoist's own registry server. Repositories are named by their path
// ("library/alpine"), without a registry host.
//
// Implementations are safe for concurrent use.
type Namespace interface {
	// Repositories lists the names of the repositories that hold at least
	// one tag or manifest, in lexical order, paged.
	Repositories(ctx context.Context, p Page) ([]string, error)
	// Repository opens the repository name. It need not exist yet: the
	// first write creates it, and reads of a repository that does not
	// exist fail with errors matching ErrNotFound. An invalid name is an
	// error matching errdef.ErrInvalid.
	Repository(ctx context.Context, name string) (Repository, error)
}

// Repository is the whole contract of one repository of a Namespace: what
// a registry server needs from its storage, and what a registry client
// offers. Stores that hold a single image location (a layout, an archive)
// implement the parts they can, as the optional interfaces below.
type Repository interface {
	Reader
	Writer
	RangeReader
	TagPusher
	TagLister
	Ingester
	Statter
	Deleter
	Untagger
	Mounter
	ReferrerLister
}

// Statter is a store that can describe a blob by digest alone.
type Statter interface {
	// Stat returns the descriptor (digest and size; the media type when
	// the store knows it) of the blob d names, or an error matching
	// ErrNotFound. Manifests are found with Reader.Resolve; Stat may also
	// find them, since a store may keep manifests as blobs.
	Stat(ctx context.Context, d digest.Digest) (ocispec.Descriptor, error)
}

// Deleter is a store that can delete content by descriptor.
type Deleter interface {
	// Delete removes desc from the location: a manifest or index (decided
	// by desc.MediaType, as Push decides) together with every tag naming
	// it, or a blob. Content other manifests still reference may stay
	// stored; it is no longer reachable through desc. A desc the location
	// lacks is an error matching ErrNotFound.
	Delete(ctx context.Context, desc ocispec.Descriptor) error
}

// Untagger is a store that can remove one tag and keep what it named.
type Untagger interface {
	// Untag removes tag; the manifest stays, by digest and under its other
	// tags. A tag the location lacks is an error matching ErrNotFound; a
	// location that cannot untag (a registry without DELETE by tag) fails
	// with an error matching errdef.ErrUnsupported that says why.
	Untag(ctx context.Context, tag string) error
}

// ReferrerLister is a store that can list the manifests whose subject is a
// given manifest (OCI 1.1 referrers: signatures, SBOMs, attestations).
type ReferrerLister interface {
	// Referrers returns descriptors of the manifests whose subject field
	// names subject, with their artifactType and annotations as the
	// referrers API gives them. A non-empty artifactType keeps only those
	// of that type. No referrers is an empty list, not an error.
	Referrers(ctx context.Context, subject digest.Digest, artifactType string) ([]ocispec.Descriptor, error)
}

// PageOf returns the part of names that p selects. names must be sorted;
// stores that hold their whole listing in memory use it to answer a Page.
func PageOf(names []string, p Page) []string {
	i := 0
	if p.Last != "" {
		i = sort.SearchStrings(names, p.Last)
		if i < len(names) && names[i] == p.Last {
			i++
		}
	}
	names = names[i:]
	if p.N > 0 && len(names) > p.N {
		names = names[:p.N]
	}
	return names
}
