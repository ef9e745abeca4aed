package hoist

import (
	"context"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/remote"
)

// Digest returns the digest of the manifest or index ref names, a location
// string (see OpenReader). A registry is asked with one HEAD request. With
// WithPlatforms (one platform) and an index, it returns the digest of that
// platform's image manifest instead.
func (s *Session) Digest(ctx context.Context, ref string, opts ...Option) (digest.Digest, error) {
	o, err := s.call(opts)
	if err != nil {
		return "", err
	}
	if len(o.platforms) > 0 {
		r, err := s.resolve(ctx, ref, opts)
		if err != nil {
			return "", err
		}
		defer r.st.Close()
		return r.desc.Digest, nil
	}
	l, err := store.ParseLocation(ref)
	if err != nil {
		return "", err
	}
	if l.Kind == remote.Kind {
		// One HEAD, never a GET: registries such as Docker Hub count a
		// manifest GET as a pull.
		ctx = s.bounded(ctx)
		rs, err := remote.OpenForDigest(ctx, s, l.Ref)
		if err != nil {
			return "", err
		}
		defer closeStore(rs)
		var d ocispec.Descriptor
		if h, ok := rs.(interface {
			Head(context.Context, string) (ocispec.Descriptor, error)
		}); ok {
			d, err = h.Head(ctx, "")
		} else {
			d, err = rs.Resolve(ctx, "") // v1: no HEAD of a manifest
		}
		return d.Digest, err
	}
	st, err := s.OpenLocationReader(ctx, l)
	if err != nil {
		return "", err
	}
	defer st.Close()
	d, err := st.Reader.Resolve(ctx, "")
	if err != nil {
		return "", err
	}
	return d.Digest, nil
}

// closeStore closes s when it must be closed (store.Closer).
func closeStore(s any) {
	if c, ok := s.(store.Closer); ok {
		c.Close()
	}
}

// Manifest returns the manifest or index ref names, byte for byte as the
// location stores it (its sha256 is its digest). With WithPlatforms and an
// index, it returns the manifest of that platform instead.
func (s *Session) Manifest(ctx context.Context, ref string, opts ...Option) ([]byte, error) {
	r, err := s.resolve(ctx, ref, opts)
	if err != nil {
		return nil, err
	}
	defer r.st.Close()
	return r.m.Raw, nil
}

// Tags lists the tags of the repository or layout repo names, in the order
// the registry returns them (the spec asks v2 registries for lexical
// order, and not all keep to it; a v1 registry's and a layout's are
// sorted), following the registry's pagination to the end or to WithLimit.
// A repository's own tag or digest, if repo has one, is ignored.
func (s *Session) Tags(ctx context.Context, repo string, opts ...Option) ([]string, error) {
	ctx = s.bounded(ctx)
	o, err := s.call(opts)
	if err != nil {
		return nil, err
	}
	st, err := s.OpenReader(ctx, repo)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	tl, ok := st.Reader.(store.TagLister)
	if !ok {
		return nil, fmt.Errorf("%s cannot list tags", st.Location)
	}
	tags, err := tl.Tags(ctx, store.Page{N: o.limit})
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = []string{}
	}
	return tags, nil
}

// Blob returns the blob REPOSITORY@DIGEST names, from a v2 registry, with
// its descriptor as the registry describes it (store.Statter). Its
// bytes are checked against the digest as they are read: a mismatch is an
// error from Read, never io.EOF. The caller closes it.
func (s *Session) Blob(ctx context.Context, ref string) (io.ReadCloser, ocispec.Descriptor, error) {
	l, err := registryLocation("Blob", ref)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	if l.Ref.Digest == "" {
		return nil, ocispec.Descriptor{}, store.InvalidLocation(fmt.Errorf("%q names no blob: write REPOSITORY@DIGEST, e.g. localhost:5000/team/app@sha256:...", ref))
	}
	if err := s.requireV2(ctx, l.Ref.Registry, "blobs by digest"); err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	st, err := s.OpenLocationReader(ctx, l)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	statter, ok := st.Reader.(store.Statter)
	if !ok {
		st.Close()
		return nil, ocispec.Descriptor{}, fmt.Errorf("%s cannot find blobs by digest", l)
	}
	desc, err := statter.Stat(ctx, l.Ref.Digest)
	if err != nil {
		st.Close()
		return nil, ocispec.Descriptor{}, err
	}
	// No media type: a blob, whatever the registry said it is (see
	// store.Reader.Fetch).
	rc, err := st.Reader.Fetch(ctx, ocispec.Descriptor{Digest: desc.Digest, Size: desc.Size})
	if err != nil {
		st.Close()
		return nil, ocispec.Descriptor{}, err
	}
	return rc, desc, nil
}

// resolved is a location opened for reading with its root manifest and,
// when a platform was asked for, that platform's image manifest.
type resolved struct {
	st       *Store // the caller closes it
	rootDesc ocispec.Descriptor
	root     *content.Manifest
	desc     ocispec.Descriptor // the platform's manifest, or the root
	m        *content.Manifest
}

// resolve opens the location ref names for reading, resolves it and
// fetches its manifest; with a platform (WithPlatforms, at most one) and
// an index, also the manifest of that platform.
func (s *Session) resolve(ctx context.Context, ref string, opts []Option) (*resolved, error) {
	ctx = s.bounded(ctx)
	o, err := s.call(opts)
	if err != nil {
		return nil, err
	}
	if len(o.platforms) > 1 {
		return nil, optionErrorf("WithPlatforms", "%d platforms: name one, to pick its image from an index", len(o.platforms))
	}
	want, err := parsePlatforms(o.platforms)
	if err != nil {
		return nil, err
	}
	st, err := s.OpenReader(ctx, ref)
	if err != nil {
		return nil, err
	}
	r, err := resolveIn(ctx, st, ref, o.platforms, want)
	if err != nil {
		st.Close()
		return nil, err
	}
	return r, nil
}

func resolveIn(ctx context.Context, st *Store, ref string, platform []string, want []ocispec.Platform) (*resolved, error) {
	r := &resolved{st: st}
	var err error
	if r.rootDesc, r.root, err = resolveManifest(ctx, st.Reader); err != nil {
		return nil, err
	}
	r.desc, r.m = r.rootDesc, r.root
	if len(want) == 0 {
		return r, nil
	}
	if r.root.Index == nil {
		return nil, fmt.Errorf("%s is an image manifest, not an index: there is no platform to pick", ref)
	}
	d, ok := content.SelectPlatform(r.root.Index, want[0])
	if !ok {
		return nil, fmt.Errorf("%s has no image for %s", ref, platform[0])
	}
	if r.m, err = FetchManifest(ctx, st.Reader, d); err != nil {
		return nil, err
	}
	r.desc = d
	return r, nil
}

// resolveManifest resolves r's own image and reads its manifest, with one
// request where r can (store.ManifestResolver).
func resolveManifest(ctx context.Context, r store.Reader) (ocispec.Descriptor, *content.Manifest, error) {
	mr, ok := r.(store.ManifestResolver)
	if !ok {
		d, err := r.Resolve(ctx, "")
		if err != nil {
			return d, nil, err
		}
		m, err := FetchManifest(ctx, r, d)
		return d, m, err
	}
	d, raw, err := mr.ResolveManifest(ctx, "")
	if err != nil {
		return d, nil, err
	}
	m, err := content.Decode(d.MediaType, raw)
	if err != nil {
		return d, nil, fmt.Errorf("manifest %s: %w", d.Digest, err)
	}
	if err := m.Verify(d.Digest); err != nil {
		return d, nil, err
	}
	return d, m, nil
}

// FetchManifest reads and decodes manifest desc from r, verified against
// its digest.
func FetchManifest(ctx context.Context, r store.Reader, desc ocispec.Descriptor) (*content.Manifest, error) {
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
