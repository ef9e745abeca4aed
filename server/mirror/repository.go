package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/server/storage"
	"github.com/hoist-dev/hoist/store"
)

// Repository is one mirrored repository. It implements store.Repository:
// reads are served from storage, fetching from upstream what it lacks;
// writes fail with errors matching errdef.ErrReadOnly.
type Repository struct {
	m     *Namespace
	local *storage.Repository
	name  string
}

var _ store.Repository = (*Repository)(nil)

// UpstreamError is a failure of the upstream (unreachable, an error
// status, content that does not match its digest). It matches
// errdef.ErrServer, which hoist's registry answers with 502.
type UpstreamError struct {
	Upstream string // its name (WithUpstreamName)
	What     string // what the mirror was doing
	Err      error
}

func (e *UpstreamError) Error() string {
	return fmt.Sprintf("mirror: %s: %s failed: %v", e.What, e.Upstream, e.Err)
}

// Is matches errdef.ErrServer. The cause is not unwrapped: a digest
// mismatch upstream is no fault of the client's request.
func (e *UpstreamError) Is(target error) bool { return target == errdef.ErrServer }

// Reference returns the repository's name.
func (r *Repository) Reference() string { return r.name }

// Resolve returns the manifest ref names. A digest is served from storage,
// fetched from upstream the first time. A tag checked upstream less than
// the TTL ago is served from storage; an older or unknown one is looked up
// upstream, its manifest stored, and the tag's check time renewed. If the
// upstream cannot be reached, a stored tag is served as it stands.
func (r *Repository) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	if strings.Contains(ref, ":") {
		desc, err := r.local.Resolve(ctx, ref)
		if !errors.Is(err, errdef.ErrNotFound) {
			return desc, err
		}
		up, err := r.upstream(ctx)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		desc, err = up.Resolve(ctx, ref)
		if err != nil {
			return ocispec.Descriptor{}, r.m.upstreamErr(err, "resolving "+r.name+"@"+ref)
		}
		return desc, r.cacheManifest(ctx, up, desc)
	}
	desc, lerr := r.local.Resolve(ctx, ref)
	if lerr == nil {
		if at, err := r.local.TagTime(ctx, ref); err == nil && r.m.cfg.now().Sub(at) < r.m.cfg.ttl {
			return desc, nil
		}
	} else if !errors.Is(lerr, errdef.ErrNotFound) {
		return ocispec.Descriptor{}, lerr
	}
	udesc, err := r.resolveUpstream(ctx, ref)
	switch {
	case err == nil:
		return udesc, nil
	case lerr == nil && !errors.Is(err, errdef.ErrNotFound):
		r.m.cfg.logger.Warn("mirror: serving a tag not revalidated", "repository", r.name, "tag", ref, "digest", desc.Digest, "err", err)
		return desc, nil
	}
	return ocispec.Descriptor{}, err
}

// resolveUpstream looks tag up upstream, stores its manifest and the tag.
func (r *Repository) resolveUpstream(ctx context.Context, tag string) (ocispec.Descriptor, error) {
	up, err := r.upstream(ctx)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc, err := up.Resolve(ctx, tag)
	if err != nil {
		return ocispec.Descriptor{}, r.m.upstreamErr(err, "resolving "+r.name+":"+tag)
	}
	if err := r.cacheManifest(ctx, up, desc); err != nil {
		return ocispec.Descriptor{}, err
	}
	// Re-writing the tag, even unchanged, records the check.
	if err := r.local.Tag(ctx, desc, tag); err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, nil
}

// Fetch returns the content of desc, verified as it is read: from
// storage, fetched from upstream first if storage lacks it.
func (r *Repository) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	rc, err := r.local.Fetch(ctx, desc)
	if !errors.Is(err, errdef.ErrNotFound) {
		return rc, err
	}
	if err := r.cache(ctx, desc); err != nil {
		return nil, err
	}
	return r.local.Fetch(ctx, desc)
}

// FetchFrom returns the bytes of desc from offset on, unverified (the
// whole blob was verified when it was stored).
func (r *Repository) FetchFrom(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	rc, err := r.local.FetchFrom(ctx, desc, offset)
	if !errors.Is(err, errdef.ErrNotFound) {
		return rc, err
	}
	if err := r.cache(ctx, desc); err != nil {
		return nil, err
	}
	return r.local.FetchFrom(ctx, desc, offset)
}

// Stat describes blob d: from storage, or as the upstream describes it
// (without fetching it yet).
func (r *Repository) Stat(ctx context.Context, d digest.Digest) (ocispec.Descriptor, error) {
	desc, err := r.local.Stat(ctx, d)
	if !errors.Is(err, errdef.ErrNotFound) {
		return desc, err
	}
	up, err := r.upstream(ctx)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	st, ok := up.(store.Statter)
	if !ok {
		return ocispec.Descriptor{}, r.m.upstreamErr(errors.New("it cannot describe blobs"), "stat of "+r.name+"@"+d.String())
	}
	desc, err = st.Stat(ctx, d)
	if err != nil {
		return ocispec.Descriptor{}, r.m.upstreamErr(err, "stat of "+r.name+"@"+d.String())
	}
	return desc, nil
}

// Exists reports whether desc can be served.
func (r *Repository) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	_, err := r.Stat(ctx, desc.Digest)
	if errors.Is(err, errdef.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Tags lists the upstream's tags, or, when the upstream does not answer,
// the tags stored.
func (r *Repository) Tags(ctx context.Context, p store.Page) ([]string, error) {
	up, err := r.upstream(ctx)
	if err == nil {
		if tl, ok := up.(store.TagLister); ok {
			tags, err := tl.Tags(ctx, p)
			if err == nil || errors.Is(err, errdef.ErrNotFound) {
				return tags, err
			}
			r.m.cfg.logger.Warn("mirror: listing stored tags, the upstream did not answer", "repository", r.name, "err", err)
		}
	}
	return r.local.Tags(ctx, p)
}

// Referrers lists the upstream's referrers of subject, or, when the
// upstream does not answer, those stored.
func (r *Repository) Referrers(ctx context.Context, subject digest.Digest, artifactType string) ([]ocispec.Descriptor, error) {
	up, err := r.upstream(ctx)
	if err == nil {
		if rl, ok := up.(store.ReferrerLister); ok {
			list, err := rl.Referrers(ctx, subject, artifactType)
			if err == nil {
				return list, nil
			}
			r.m.cfg.logger.Warn("mirror: listing stored referrers, the upstream did not answer", "repository", r.name, "err", err)
		}
	}
	return r.local.Referrers(ctx, subject, artifactType)
}
