package memory

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
)

// Namespace is a registry's worth of repositories held in memory. It
// implements store.Namespace and is safe for concurrent use.
type Namespace struct {
	host string

	mu    sync.Mutex
	blobs map[digest.Digest][]byte // all content, manifests included
	repos map[string]*repo
}

// repo is what one repository holds: links to content, tags, ingests.
type repo struct {
	links   map[digest.Digest]string // content it holds: "" for a blob, else the manifest's media type
	tags    map[string]digest.Digest
	subject map[digest.Digest]digest.Digest // manifest -> the subject it names
	ingests map[string]*ingestState
}

// Option configures New.
type Option func(*Namespace)

// WithRegistry sets the host its repositories report from Registry (the
// store.Mounter contract), so that a copy between two of them mounts. The
// default is "memory".
func WithRegistry(host string) Option { return func(ns *Namespace) { ns.host = host } }

// New returns an empty Namespace.
func New(opts ...Option) *Namespace {
	ns := &Namespace{host: "memory", blobs: map[digest.Digest][]byte{}, repos: map[string]*repo{}}
	for _, o := range opts {
		o(ns)
	}
	return ns
}

var _ store.Namespace = (*Namespace)(nil)

// Repositories lists the repositories holding a tag or a manifest, in
// lexical order, paged.
func (ns *Namespace) Repositories(ctx context.Context, p store.Page) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var names []string
	for name, r := range ns.repos {
		if r.listed() {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return store.PageOf(names, p), nil
}

// Repository opens repository name; it need not exist yet.
func (ns *Namespace) Repository(ctx context.Context, name string) (store.Repository, error) {
	return ns.Open(name)
}

// Open is Repository with the concrete type and without a context.
func (ns *Namespace) Open(name string) (*Repository, error) {
	if err := reference.ValidateRepository(name); err != nil {
		return nil, fmt.Errorf("%w: repository %q: %v", errdef.ErrInvalid, name, err)
	}
	return &Repository{ns: ns, name: name}, nil
}

// listed reports whether the repository shows in the catalog.
func (r *repo) listed() bool {
	if len(r.tags) > 0 {
		return true
	}
	for _, mt := range r.links {
		if mt != "" {
			return true
		}
	}
	return false
}

// state returns name's repo, created when create is set; nil otherwise
// for one that holds nothing. ns.mu is held.
func (ns *Namespace) state(name string, create bool) *repo {
	r := ns.repos[name]
	if r == nil && create {
		r = &repo{links: map[digest.Digest]string{}, tags: map[string]digest.Digest{}, subject: map[digest.Digest]digest.Digest{}, ingests: map[string]*ingestState{}}
		ns.repos[name] = r
	}
	return r
}

// Repository is one repository of a Namespace: a store.Repository. It is
// a cheap handle, safe for concurrent use; it names no image, so Resolve
// needs a tag or digest.
type Repository struct {
	ns   *Namespace
	name string
}

var _ store.Repository = (*Repository)(nil)

// Registry returns the Namespace's host (store.Mounter).
func (r *Repository) Registry() string { return r.ns.host }

// Repository returns the repository's name (store.Mounter).
func (r *Repository) Repository() string { return r.name }

func (r *Repository) notFound(what string) error {
	return fmt.Errorf("%s not found in repository %s: %w", what, r.name, store.ErrNotFound)
}

// lookup returns the media type ("" for a blob) and bytes of d in the
// repository. ns.mu is held.
func (r *Repository) lookup(d digest.Digest) (mediaType string, b []byte, ok bool) {
	st := r.ns.state(r.name, false)
	if st == nil {
		return "", nil, false
	}
	mt, ok := st.links[d]
	if !ok {
		return "", nil, false
	}
	return mt, r.ns.blobs[d], true
}

// Resolve returns the manifest a tag or digest names.
func (r *Repository) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	if err := ctx.Err(); err != nil {
		return ocispec.Descriptor{}, err
	}
	if ref == "" {
		return ocispec.Descriptor{}, fmt.Errorf("%w: resolving in %s needs a tag or digest", errdef.ErrInvalid, r.name)
	}
	r.ns.mu.Lock()
	defer r.ns.mu.Unlock()
	d := digest.Digest(ref)
	if d.Validate() != nil {
		if err := reference.ValidateTag(ref); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("%w: %v", errdef.ErrInvalid, err)
		}
		st := r.ns.state(r.name, false)
		if st == nil || st.tags[ref] == "" {
			return ocispec.Descriptor{}, r.notFound("tag " + ref)
		}
		d = st.tags[ref]
	}
	mt, b, ok := r.lookup(d)
	if !ok || mt == "" {
		return ocispec.Descriptor{}, r.notFound("manifest " + d.String())
	}
	return ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(b))}, nil
}

// Fetch returns the content of desc, verified as it is read.
func (r *Repository) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	rc, err := r.FetchFrom(ctx, desc, 0)
	if err != nil {
		return nil, err
	}
	v, err := content.NewVerifier(rc, desc)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(v), nil
}

// FetchFrom returns desc's bytes from offset on, unverified.
func (r *Repository) FetchFrom(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.ns.mu.Lock()
	_, b, ok := r.lookup(desc.Digest)
	r.ns.mu.Unlock()
	if !ok {
		return nil, r.notFound("blob " + desc.Digest.String())
	}
	if offset < 0 || offset > int64(len(b)) {
		return nil, fmt.Errorf("offset %d is outside blob %s", offset, desc.Digest)
	}
	return io.NopCloser(bytes.NewReader(b[offset:])), nil
}

// Stat describes the blob or manifest d.
func (r *Repository) Stat(ctx context.Context, d digest.Digest) (ocispec.Descriptor, error) {
	if err := ctx.Err(); err != nil {
		return ocispec.Descriptor{}, err
	}
	r.ns.mu.Lock()
	defer r.ns.mu.Unlock()
	mt, b, ok := r.lookup(d)
	if !ok {
		return ocispec.Descriptor{}, r.notFound("blob " + d.String())
	}
	return ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(b))}, nil
}

// Exists reports whether the repository holds desc (size checked).
func (r *Repository) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	r.ns.mu.Lock()
	defer r.ns.mu.Unlock()
	_, b, ok := r.lookup(desc.Digest)
	return ok && (desc.Size < 0 || int64(len(b)) == desc.Size), nil
}

// Tags lists the repository's tags in lexical order, paged; a repository
// that holds nothing matches store.ErrNotFound.
func (r *Repository) Tags(ctx context.Context, p store.Page) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.ns.mu.Lock()
	defer r.ns.mu.Unlock()
	st := r.ns.state(r.name, false)
	if st == nil || len(st.links) == 0 && len(st.tags) == 0 {
		return nil, r.notFound("tags")
	}
	tags := make([]string, 0, len(st.tags))
	for t := range st.tags {
		tags = append(tags, t)
	}
	slices.Sort(tags)
	return store.PageOf(tags, p), nil
}

// Referrers lists the manifests whose subject is subject, optionally of
// one artifact type.
func (r *Repository) Referrers(ctx context.Context, subject digest.Digest, artifactType string) ([]ocispec.Descriptor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.ns.mu.Lock()
	defer r.ns.mu.Unlock()
	out := []ocispec.Descriptor{}
	st := r.ns.state(r.name, false)
	if st == nil {
		return out, nil
	}
	for m, s := range st.subject {
		if s != subject {
			continue
		}
		raw := r.ns.blobs[m]
		man, err := content.Decode(st.links[m], raw)
		if err != nil {
			continue
		}
		d := ocispec.Descriptor{MediaType: st.links[m], Digest: m, Size: int64(len(raw)), ArtifactType: man.ArtifactType(), Annotations: man.Annotations()}
		if artifactType == "" || d.ArtifactType == artifactType {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b ocispec.Descriptor) int { return bytes.Compare([]byte(a.Digest), []byte(b.Digest)) })
	return out, nil
}
