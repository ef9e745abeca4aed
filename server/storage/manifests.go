package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errdef"
)

// MissingError is the error for a manifest push whose manifest refers to
// a blob or manifest the repository does not hold. It matches
// errdef.ErrNotFound.
type MissingError struct {
	Repository string
	Child      ocispec.Descriptor
	Role       content.Role
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("the manifest's %s %s is not in repository %s: push it first", e.Role, e.Child.Digest, e.Repository)
}

// Is matches errdef.ErrNotFound.
func (e *MissingError) Is(target error) bool { return target == errdef.ErrNotFound }

// PutManifest stores the manifest read from rd (at most the
// WithMaxManifestSize limit) as desc: desc.MediaType is the type it was
// sent as, desc.Digest the digest it must have (its algorithm is the one
// the manifest is stored under; empty means sha256 of the bytes), and a
// positive desc.Size the length it must have. It returns the decoded
// manifest, whose Descriptor.Digest is the digest it was stored by.
//
// It refuses, with errors matching errdef.ErrInvalid, a document that is
// no manifest, one whose mediaType field contradicts desc.MediaType, one
// with both "manifests" and "layers", and Docker schema 1; with
// *MissingError a manifest whose children are not in the repository
// (unless WithAllowMissing); with errdef.ErrTooLarge one over the limit;
// with errdef.ErrDigestMismatch or errdef.ErrSizeMismatch one that is not
// what desc says. A manifest with a subject is recorded among the
// subject's referrers, whether or not the subject exists.
func (r *Repository) PutManifest(ctx context.Context, desc ocispec.Descriptor, rd io.Reader) (*content.Manifest, error) {
	raw, err := content.ReadCapped(rd, r.ns.cfg.maxManifestSize, "manifest")
	if err != nil {
		return nil, err
	}
	want := desc.Digest
	if want == "" {
		want = digest.FromBytes(raw)
	} else if err := validDigest(want); err != nil {
		return nil, err
	}
	if got := want.Algorithm().FromBytes(raw); got != want {
		return nil, &content.MismatchError{Want: ocispec.Descriptor{Digest: want, Size: -1}, GotSize: int64(len(raw)), GotDigest: got}
	}
	if desc.Size > 0 && desc.Size != int64(len(raw)) {
		return nil, &content.MismatchError{Want: desc, GotSize: int64(len(raw))}
	}
	m, err := decodeManifest(desc.MediaType, raw)
	if err != nil {
		return nil, err
	}
	m.Descriptor.Digest = want
	if !r.ns.cfg.allowMissing {
		if err := r.checkChildren(ctx, m); err != nil {
			return nil, err
		}
	}
	// The manifest's own bytes are a blob GC may be taking (an old push
	// of it, deleted since): fence them as a blob a manifest takes.
	if err := r.ns.touchUsed(ctx, want); err != nil {
		return nil, err
	}
	if _, err := r.ns.d.Stat(ctx, blobData(want)); isNotFound(err) {
		if err := r.ns.putAtomic(ctx, blobData(want), raw); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	if s := m.Subject(); s != nil {
		if err := r.addReferrer(ctx, *s, m); err != nil {
			return nil, err
		}
	}
	if err := r.ns.putAtomic(ctx, r.manifestLink(want), []byte(m.Descriptor.MediaType)); err != nil {
		return nil, err
	}
	return m, nil
}

// decodeManifest parses raw, sent with Content-Type contentType, and
// refuses what a registry must not store.
func decodeManifest(contentType string, raw []byte) (*content.Manifest, error) {
	var shape struct {
		MediaType string          `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
		Layers    json.RawMessage `json:"layers"`
	}
	if err := json.Unmarshal(raw, &shape); err != nil {
		return nil, fmt.Errorf("%w: the manifest is not a JSON object: %v", errdef.ErrInvalid, err)
	}
	if shape.Manifests != nil && shape.Layers != nil {
		return nil, fmt.Errorf("%w: the manifest has both \"manifests\" and \"layers\": an index and an image at once is ambiguous", errdef.ErrInvalid)
	}
	ct := content.BaseType(contentType)
	if shape.MediaType != "" && ct != "" && content.BaseType(shape.MediaType) != ct {
		return nil, fmt.Errorf("%w: the manifest says mediaType %q but was sent as %q", errdef.ErrInvalid, shape.MediaType, ct)
	}
	m, err := content.Decode(contentType, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errdef.ErrInvalid, err)
	}
	if m.Kind == content.KindLegacy {
		return nil, fmt.Errorf("%w: Docker schema 1 manifests are not accepted; push a schema 2 or OCI manifest", errdef.ErrInvalid)
	}
	return m, nil
}

// checkChildren makes sure every child of m is in the repository. Each
// blob's used file is touched before its existence is checked: that order
// is the fence against a concurrent GC (see gc.go). The blobs are checked
// concurrently (each touch is a synced write), at most checkConcurrency at
// once.
func (r *Repository) checkChildren(ctx context.Context, m *content.Manifest) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(checkConcurrency)
	for _, c := range content.Children(m) {
		d := c.Descriptor
		switch {
		case c.Role == content.RoleSubject:
			continue
		case c.Role == content.RoleLayer && nonDistributable(d.MediaType):
			continue
		case len(d.Data) > 0 && d.Digest.Validate() == nil && d.Digest.Algorithm().FromBytes(d.Data) == d.Digest:
			continue // the descriptor carries its content
		}
		if err := validDigest(d.Digest); err != nil {
			return err
		}
		g.Go(func() error { return r.checkChild(gctx, c) })
	}
	return g.Wait()
}

// checkConcurrency bounds the children one manifest push checks at once.
const checkConcurrency = 8

// checkChild checks one child of a manifest being pushed.
func (r *Repository) checkChild(ctx context.Context, c content.Child) error {
	d := c.Descriptor
	if c.Role == content.RoleManifest {
		_, manifest, ok, err := r.link(ctx, d.Digest)
		if err != nil {
			return err
		}
		if !ok || !manifest {
			return &MissingError{Repository: r.name, Child: d, Role: c.Role}
		}
		return nil
	}
	if err := r.ns.touchUsed(ctx, d.Digest); err != nil {
		return err
	}
	if _, err := r.ns.d.Stat(ctx, blobData(d.Digest)); isNotFound(err) {
		return &MissingError{Repository: r.name, Child: d, Role: c.Role}
	} else if err != nil {
		return err
	}
	// A blob's link first: the manifest link (what link looks at first)
	// is the rare case for a layer or config.
	if _, err := r.ns.d.Stat(ctx, r.blobLink(d.Digest)); err == nil {
		return nil
	} else if !isNotFound(err) {
		return err
	}
	if _, _, ok, err := r.link(ctx, d.Digest); err != nil {
		return err
	} else if !ok {
		return &MissingError{Repository: r.name, Child: d, Role: c.Role}
	}
	return nil
}

// nonDistributable reports whether a layer media type is one registries
// need not hold (OCI non-distributable, Docker foreign layers).
func nonDistributable(mt string) bool {
	mt = content.BaseType(mt)
	return strings.Contains(mt, ".nondistributable.") || mt == content.MediaTypeDockerForeignLayer
}

// readManifest returns the stored bytes of manifest d, decoded.
func (ns *Namespace) readManifest(ctx context.Context, d digest.Digest, mediaType string) (*content.Manifest, error) {
	raw, err := ns.d.GetContent(ctx, blobData(d))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", d, err)
	}
	if int64(len(raw)) > ns.cfg.maxManifestSize*4 {
		return nil, fmt.Errorf("manifest %s: %w", d, errdef.ErrTooLarge)
	}
	m, err := content.Decode(mediaType, bytes.Clone(raw))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", d, err)
	}
	m.Descriptor.Digest = d
	return m, nil
}
