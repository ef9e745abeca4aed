package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/distribution"
	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/transport"
)

// Repository is one repository of a v2 registry as a store. It implements
// the whole store.Repository contract, store.EmptyChecker,
// store.Referencer and store.Closer, and is safe for concurrent use.
// Close it to cancel the upload sessions of ingests left open.
type Repository struct {
	ref      reference.Reference
	repo     *distribution.Repository
	client   *http.Client
	opts     []distribution.Option
	bound    bool // ref names the image Resolve("") answers
	sessions UploadSessions

	mu        sync.Mutex
	manifests map[digest.Digest][]byte // pushed in this session, for Tag
	first     *firstAnswer             // the answer Open detected the protocol with (resolve.go)
	wasEmpty  *bool                    // Empty's answer, when Open learnt the protocol from it
}

// New returns the repository ref names (its tag or digest is what Resolve
// answers for ""), reached with client, which must carry hoist's transport
// and auth for ref's registry. opts go to distribution.NewRegistry.
func New(ref reference.Reference, client *http.Client, opts ...distribution.Option) (*Repository, error) {
	reg, err := distribution.NewRegistry(reference.APIHost(ref.Registry), append([]distribution.Option{distribution.WithHTTPClient(client)}, opts...)...)
	if err != nil {
		return nil, err
	}
	return newRepository(ref, reg, client, opts, true)
}

// newRepository is a repository of reg; bound says that ref names an image
// for Resolve("").
func newRepository(ref reference.Reference, reg *distribution.Registry, client *http.Client, opts []distribution.Option, bound bool) (*Repository, error) {
	repo, err := reg.Repository(ref.Repository)
	if err != nil {
		return nil, err
	}
	return &Repository{ref: ref, repo: repo, client: client, opts: opts, bound: bound, sessions: &memorySessions{}, manifests: map[digest.Digest][]byte{}}, nil
}

// WithMaxChunkSize returns the repository with uploads capped at n bytes a
// request (distribution.WithMaxChunkSize): a blob larger than n is pushed
// in PATCH chunks of n bytes. n <= 0 returns r as it is. The copy shares
// nothing cached with r but the http.Client.
func (r *Repository) WithMaxChunkSize(n int64) (*Repository, error) {
	if n <= 0 {
		return r, nil
	}
	return New(r.ref, r.client, append(append([]distribution.Option(nil), r.opts...), distribution.WithMaxChunkSize(n))...)
}

// Distribution returns the underlying protocol client, for operations the
// store contract does not cover.
func (r *Repository) Distribution() *distribution.Repository { return r.repo }

// Location returns the repository with the tag or digest it was opened
// with, as a registry location.
func (r *Repository) Location() store.Location { return store.Location{Kind: Kind, Ref: r.ref} }

// Registry returns the registry as the reference names it.
func (r *Repository) Registry() string { return r.ref.Registry }

// Repository returns the repository path.
func (r *Repository) Repository() string { return r.ref.Repository }

// Resolve returns the descriptor of the manifest ref names: a tag, a digest,
// or "" for the reference's own tag or digest (latest when it has neither).
// A repository of a Registry (store.Namespace) names no image: "" is an
// error matching errdef.ErrInvalid there.
func (r *Repository) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	if ref == "" && !r.bound {
		return ocispec.Descriptor{}, fmt.Errorf("%w: resolving in %s needs a tag or digest", errdef.ErrInvalid, r.ref.Name())
	}
	if ref == "" {
		ref = r.ref.Identifier()
	}
	if d, ok := r.peekFirst(ref); ok {
		return d, nil
	}
	d, err := r.repo.ManifestHead(ctx, ref)
	if err != nil {
		return ocispec.Descriptor{}, notFound(err, r.ref.Name()+refSuffix(ref))
	}
	return d, nil
}

// Fetch returns manifest or blob desc, verified as it is read.
func (r *Repository) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if isManifest(desc) {
		m, err := r.repo.Manifest(ctx, desc.Digest.String())
		if err != nil {
			return nil, notFound(err, desc.Digest.String())
		}
		return io.NopCloser(bytes.NewReader(m.Raw)), nil
	}
	rc, err := r.repo.Blob(ctx, desc)
	if err != nil {
		return nil, notFound(err, desc.Digest.String())
	}
	return rc, nil
}

// FetchFrom returns blob desc from offset on, not verified (see
// store.RangeReader).
func (r *Repository) FetchFrom(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	rc, err := r.repo.BlobFrom(ctx, desc, offset)
	if err != nil {
		return nil, notFound(err, desc.Digest.String())
	}
	return rc, nil
}

// Exists reports whether the repository has desc, with a HEAD request.
func (r *Repository) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	var err error
	if isManifest(desc) {
		_, err = r.repo.ManifestHead(ctx, desc.Digest.String())
	} else {
		_, err = r.repo.BlobHead(ctx, desc.Digest)
	}
	if errors.Is(err, errcode.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Push uploads desc: a manifest by digest (remembered for Tag), a blob
// through a new ingest (store.PushIngest), which sends it as
// distribution's PushBlob does.
func (r *Repository) Push(ctx context.Context, desc ocispec.Descriptor, rd io.Reader) error {
	if !isManifest(desc) {
		return store.PushIngest(ctx, r, desc, rd)
	}
	raw, err := content.ReadCapped(rd, desc.Size+1, "manifest "+desc.Digest.String())
	if err != nil {
		return err
	}
	if _, err := r.repo.PutManifest(ctx, desc.Digest.String(), desc.MediaType, raw); err != nil {
		return missingChild(err, desc)
	}
	r.mu.Lock()
	r.manifests[desc.Digest] = raw
	r.mu.Unlock()
	return nil
}

// PushTagged puts manifest desc under tag in one request; the registry
// then has it by digest as well.
func (r *Repository) PushTagged(ctx context.Context, desc ocispec.Descriptor, rd io.Reader, tag string) error {
	raw, err := content.ReadCapped(rd, desc.Size+1, "manifest "+desc.Digest.String())
	if err != nil {
		return err
	}
	if content.NewDescriptor(desc.MediaType, raw).Digest != desc.Digest {
		return fmt.Errorf("manifest for tag %s does not match its digest %s", tag, desc.Digest)
	}
	_, err = r.repo.PutManifest(ctx, tag, desc.MediaType, raw)
	return missingChild(err, desc)
}

// missingChild adds store.ErrNotFound to a registry's refusal of manifest
// desc for a child it lacks (MANIFEST_BLOB_UNKNOWN), as the store contract
// words that refusal.
func missingChild(err error, desc ocispec.Descriptor) error {
	var ee *errcode.Error
	if errors.As(err, &ee) && ee.HasCode(errcode.CodeManifestBlobUnknown) {
		return fmt.Errorf("manifest %s names content the repository lacks; push children before their manifest: %w: %w", desc.Digest, store.ErrNotFound, err)
	}
	return err
}

// Tag points tag at manifest desc by putting its bytes again under the tag.
// An empty tag does nothing: a registry keeps untagged manifests by digest.
func (r *Repository) Tag(ctx context.Context, desc ocispec.Descriptor, tag string) error {
	if tag == "" {
		return nil
	}
	r.mu.Lock()
	raw, ok := r.manifests[desc.Digest]
	r.mu.Unlock()
	if !ok {
		m, err := r.repo.Manifest(ctx, desc.Digest.String())
		if err != nil {
			return err
		}
		raw = m.Raw
	}
	_, err := r.repo.PutManifest(ctx, tag, desc.MediaType, raw)
	return err
}

// Mount takes blob desc from repository from of the same registry. It
// reports false, with no error, when the registry declined.
func (r *Repository) Mount(ctx context.Context, desc ocispec.Descriptor, from string) (bool, error) {
	return r.repo.Mount(transport.WithRetryable(ctx), desc, from, nil)
}

// Empty reports whether the repository has no tags (or does not exist),
// with one short tags listing.
func (r *Repository) Empty(ctx context.Context) (bool, error) {
	r.mu.Lock()
	known := r.wasEmpty
	r.mu.Unlock()
	if known != nil {
		return *known, nil
	}
	return r.listEmpty(ctx)
}

// listEmpty is Empty's tags listing.
func (r *Repository) listEmpty(ctx context.Context) (bool, error) {
	tags, err := r.repo.Tags(ctx, distribution.ListOptions{PageSize: 1, Limit: 1})
	if errors.Is(err, errcode.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return len(tags) == 0, nil
}

// Tags lists the repository's tags that p selects, in the registry's
// order, following the registry's pagination until p.N are listed.
func (r *Repository) Tags(ctx context.Context, p store.Page) ([]string, error) {
	tags, err := r.repo.Tags(ctx, distribution.ListOptions{Last: p.Last, Limit: p.N})
	if err != nil {
		return nil, notFound(err, r.ref.Name())
	}
	return tags, nil
}

func isManifest(d ocispec.Descriptor) bool {
	return content.KindOf(d.MediaType) != content.KindUnknown
}

// notFound adds store.ErrNotFound to a registry's not-found answer, so
// callers can test for it without knowing which store answered.
func notFound(err error, what string) error {
	if errors.Is(err, errcode.ErrNotFound) {
		return fmt.Errorf("%s: %w: %w", what, store.ErrNotFound, err)
	}
	return err
}

// refSuffix is how ref, a tag or a digest, follows a repository name:
// ":TAG" or "@DIGEST".
func refSuffix(ref string) string {
	if strings.Contains(ref, ":") {
		return "@" + ref
	}
	return ":" + ref
}
