package remote

import (
	"context"
	"errors"
	"fmt"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/distribution"
	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/transport"
)

// ResolveManifest resolves ref (as Resolve) and reads the manifest with
// one GET by tag or digest, asking for every manifest media type hoist
// reads (store.ManifestResolver). The digest comes from the answer: the
// registry's Docker-Content-Digest, checked against the bytes, or the
// bytes' own sha256; fetched by digest, the bytes must hash to it. No
// HEAD is sent.
//
// When Open detected the registry's protocol with this very GET (see
// Open), the answer it got is used once instead of asking again.
func (r *Repository) ResolveManifest(ctx context.Context, ref string) (ocispec.Descriptor, []byte, error) {
	if ref == "" && !r.bound {
		return ocispec.Descriptor{}, nil, fmt.Errorf("%w: resolving in %s needs a tag or digest", errdef.ErrInvalid, r.ref.Name())
	}
	if ref == "" {
		ref = r.ref.Identifier()
	}
	if a := r.takeFirst(ref); a != nil {
		return a.desc, a.raw, a.err
	}
	return r.getManifest(ctx, ref)
}

// getManifest is one GET of manifest ref, as ResolveManifest describes.
func (r *Repository) getManifest(ctx context.Context, ref string) (ocispec.Descriptor, []byte, error) {
	m, err := r.repo.Manifest(ctx, ref)
	if err != nil {
		return ocispec.Descriptor{}, nil, notFound(err, r.ref.Name()+refSuffix(ref))
	}
	return m.Descriptor, m.Raw, nil
}

// Head resolves ref with a HEAD request alone, as Resolve did before
// ResolveManifest existed: for a caller that needs only the digest
// (registries such as Docker Hub count a manifest GET as a pull, not a
// HEAD). When the repository was opened with OpenForDigest, the HEAD it
// learnt the protocol from answers once. (A registry whose HEAD leaves
// the digest or size out is asked with a GET, see
// distribution.Repository.ManifestHead.)
func (r *Repository) Head(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	if ref == "" && !r.bound {
		return ocispec.Descriptor{}, fmt.Errorf("%w: resolving in %s needs a tag or digest", errdef.ErrInvalid, r.ref.Name())
	}
	if ref == "" {
		ref = r.ref.Identifier()
	}
	if a := r.takeHead(ref); a != nil {
		return a.desc, a.err
	}
	d, err := r.repo.ManifestHead(ctx, ref)
	if err != nil {
		return ocispec.Descriptor{}, notFound(err, r.ref.Name()+refSuffix(ref))
	}
	return d, nil
}

// FetchSection returns bytes [offset, offset+n) of blob desc with one
// bounded ranged request, not verified (store.SectionReader).
func (r *Repository) FetchSection(ctx context.Context, desc ocispec.Descriptor, offset, n int64) (io.ReadCloser, error) {
	rc, err := r.repo.BlobSection(ctx, desc, offset, n)
	if err != nil {
		return nil, notFound(err, desc.Digest.String())
	}
	return rc, nil
}

// firstAnswer is the answer to the GET (or, for OpenForDigest, the HEAD)
// Open sent to learn the protocol.
type firstAnswer struct {
	ref  string
	head bool // a HEAD's: desc, no raw
	desc ocispec.Descriptor
	raw  []byte
	err  error
}

// takeFirst returns, once, the answer to the GET Open sent for ref.
func (r *Repository) takeFirst(ref string) *firstAnswer {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.first
	if a == nil || a.ref != ref || a.head {
		return nil
	}
	r.first = nil
	return a
}

// takeHead returns, once, the answer to the GET or HEAD Open sent for
// ref: either tells the descriptor.
func (r *Repository) takeHead(ref string) *firstAnswer {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.first
	if a == nil || a.ref != ref {
		return nil
	}
	r.first = nil
	return a
}

// provesV2 reports whether the outcome of a request to a /v2/ path
// proves the registry speaks v2: a manifest, or an answer in the
// distribution API's own terms (an OCI error code about the repository
// or manifest, or a 401 challenge, as Detect takes a 401 to /v2/). A bare 404 (a web server that is no
// registry, or a v1 one), a network failure or a refusal of plain http
// proves nothing: Detect then asks /v2/ and /v1/_ping.
func provesV2(err error) bool {
	if err == nil {
		return true
	}
	if errors.Is(err, transport.ErrPlainHTTP) {
		return false
	}
	var ee *errcode.Error
	if !errors.As(err, &ee) {
		return false
	}
	if ee.Status == 401 && ee.Challenge != "" {
		return true
	}
	for _, e := range ee.Errors {
		switch e.Code {
		case errcode.CodeManifestUnknown, errcode.CodeNameUnknown, errcode.CodeNameInvalid, errcode.CodeManifestInvalid,
			errcode.CodeUnauthorized, errcode.CodeDenied, errcode.CodeTooManyRequests:
			return true
		}
	}
	return false // UNKNOWN, UNSUPPORTED: any server can say those (hoist's v1 server does)
}

// probe sends the GET of ref's manifest that a read of ref starts with,
// and keeps the answer for ResolveManifest. It reports whether the
// answer proves v2.
func (r *Repository) probe(ctx context.Context) (bool, error) {
	ref := r.ref.Identifier()
	desc, raw, err := r.getManifest(ctx, ref)
	if !provesV2(err) {
		return false, err
	}
	r.mu.Lock()
	r.first = &firstAnswer{ref: ref, desc: desc, raw: raw, err: err}
	r.mu.Unlock()
	return true, nil
}

// probeHead sends the HEAD of ref's manifest that OpenForDigest starts
// with, and keeps the answer for Head. It reports whether the answer
// proves v2: a HEAD has no body, so only a whole descriptor (the
// registry's digest, a manifest media type and a size, see
// distribution.Repository.ManifestHead) or a 401 challenge does.
func (r *Repository) probeHead(ctx context.Context) (bool, error) {
	ref := r.ref.Identifier()
	desc, err := r.repo.ManifestHead(ctx, ref)
	if err != nil {
		err = notFound(err, r.ref.Name()+refSuffix(ref))
	}
	if !provesV2(err) {
		return false, err
	}
	r.mu.Lock()
	r.first = &firstAnswer{ref: ref, head: true, desc: desc, err: err}
	r.mu.Unlock()
	return true, nil
}

// peekFirst returns the descriptor of Open's answer for ref, without
// using it up, for Resolve.
func (r *Repository) peekFirst(ref string) (ocispec.Descriptor, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a := r.first; a != nil && a.ref == ref && a.err == nil {
		return a.desc, true
	}
	return ocispec.Descriptor{}, false
}

// probeEmpty sends the tags listing Empty needs, and keeps its answer for
// Empty. It reports whether the answer proves v2.
func (r *Repository) probeEmpty(ctx context.Context) (bool, error) {
	tags, err := r.repo.Tags(ctx, distribution.ListOptions{PageSize: 1, Limit: 1})
	if !provesV2(err) {
		return false, err // a bare 404 among them: no registry's NAME_UNKNOWN
	}
	empty := err == nil && len(tags) == 0 || errors.Is(err, errcode.ErrNotFound)
	if err == nil || errors.Is(err, errcode.ErrNotFound) {
		r.mu.Lock()
		r.wasEmpty = &empty
		r.mu.Unlock()
	}
	return true, nil
}
