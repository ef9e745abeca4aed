package hoist

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
)

// Tag makes newTag name, in the same repository, the manifest src names
// (a registry reference by tag or digest), and returns the new reference
// with its digest. Only the manifest is written again, under the new tag;
// no blob moves. newTag is a tag ("v2") or a full reference of the same
// repository ("localhost:5000/team/app:v2"); to tag into another
// repository, Copy it (within one registry its blobs are mounted).
func (s *Session) Tag(ctx context.Context, src, newTag string) (reference.Reference, error) {
	l, err := registryLocation("Tag", src)
	if err != nil {
		return reference.Reference{}, err
	}
	tag, err := sameRepoTag(l.Ref, newTag)
	if err != nil {
		return reference.Reference{}, err
	}
	if err := s.requireV2(ctx, l.Ref.Registry, "tagging"); err != nil {
		return reference.Reference{}, err
	}
	st, err := s.OpenLocationWriter(ctx, l)
	if err != nil {
		return reference.Reference{}, err
	}
	defer st.Close()
	r, ok := st.Writer.(store.Reader)
	if !ok {
		return reference.Reference{}, fmt.Errorf("%s cannot be read and tagged at once", l)
	}
	desc, err := r.Resolve(ctx, "")
	if err != nil {
		return reference.Reference{}, err
	}
	if err := st.Writer.Tag(ctx, desc, tag); err != nil {
		return reference.Reference{}, err
	}
	return reference.Reference{Registry: l.Ref.Registry, Repository: l.Ref.Repository, Tag: tag, Digest: desc.Digest}, nil
}

// sameRepoTag returns the tag newTag names for repository ref: newTag
// itself, or the tag of a full reference to ref's repository.
func sameRepoTag(ref reference.Reference, newTag string) (string, error) {
	if !strings.ContainsAny(newTag, "/@") {
		if err := reference.ValidateTag(newTag); err != nil {
			return "", store.InvalidLocation(fmt.Errorf("new tag %q: %w", newTag, err))
		}
		return newTag, nil
	}
	n, err := reference.Parse(newTag)
	if err != nil {
		return "", store.InvalidLocation(err)
	}
	switch {
	case n.Tag == "" || n.Digest != "":
		return "", store.InvalidLocation(fmt.Errorf("new tag %q: name a tag (TAG or %s:TAG), not a digest", newTag, ref.Name()))
	case n.Registry != ref.Registry || n.Repository != ref.Repository:
		return "", store.InvalidLocation(fmt.Errorf("%s is another repository than %s: Tag retags within one repository; Copy puts the image there (within a registry, by mounting its blobs)", n.Name(), ref.Name()))
	}
	return n.Tag, nil
}

// UntagResult is what Untag did.
type UntagResult struct {
	// Untagged is the tag removed, with the digest it named.
	Untagged reference.Reference
	// ManifestDeleted is true when the registry deleted the manifest the
	// tag named along with the tag (some registries treat DELETE by tag
	// so), taking its other tags with it.
	ManifestDeleted bool
}

// Untag removes the tag ref names (REPOSITORY:TAG) from its v2 registry,
// keeping the manifest and its other tags, where the registry allows
// DELETE by tag. Registries that delete manifests only (distribution 2.x,
// most hosted ones) refuse, and the error, matching errdef.ErrUnsupported,
// says so; Delete removes the manifest with all its tags instead. Untag
// checks afterwards that the tag is gone, and reports when the registry
// took the manifest with it.
func (s *Session) Untag(ctx context.Context, ref string) (*UntagResult, error) {
	l, err := registryLocation("Untag", ref)
	if err != nil {
		return nil, err
	}
	if l.Ref.Tag == "" || l.Ref.Digest != "" {
		return nil, store.InvalidLocation(fmt.Errorf("Untag removes a tag: write REPOSITORY:TAG, not %q", ref))
	}
	if err := s.requireV2(ctx, l.Ref.Registry, "tag deletion"); err != nil {
		return nil, err
	}
	st, err := s.OpenLocationReader(ctx, l)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	u, ok := st.Reader.(store.Untagger)
	if !ok {
		return nil, fmt.Errorf("%s cannot remove tags", l)
	}
	desc, err := st.Reader.Resolve(ctx, l.Ref.Tag)
	if err != nil {
		return nil, err
	}
	if err := u.Untag(ctx, l.Ref.Tag); err != nil {
		return nil, err
	}
	res := &UntagResult{Untagged: l.Ref}
	res.Untagged.Digest = desc.Digest
	if got, err := st.Reader.Resolve(ctx, l.Ref.Tag); err == nil {
		return nil, fmt.Errorf("%s: the registry accepted DELETE by tag, but the tag still resolves (to %s)", l.Ref, got.Digest)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%s: checking the tag after removing it: %w", l.Ref, err)
	}
	if _, err := st.Reader.Resolve(ctx, desc.Digest.String()); errors.Is(err, store.ErrNotFound) {
		res.ManifestDeleted = true
	}
	return res, nil
}

// Tag makes newTag name, in the same repository, the image src names;
// see Session.Tag.
func Tag(ctx context.Context, src, newTag string, opts ...Option) (reference.Reference, error) {
	return oneCall(opts, func(s *Session) (reference.Reference, error) { return s.Tag(ctx, src, newTag) })
}

// Untag removes the tag ref names from its registry, keeping the
// manifest; see Session.Untag.
func Untag(ctx context.Context, ref string, opts ...Option) (*UntagResult, error) {
	return oneCall(opts, func(s *Session) (*UntagResult, error) { return s.Untag(ctx, ref) })
}
