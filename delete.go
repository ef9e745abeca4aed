package hoist

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"

	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
)

// maxTagsChecked bounds how many tags Delete resolves to find those
// naming the manifest it deletes.
const maxTagsChecked = 10000

// DeleteResult is what Delete did.
type DeleteResult struct {
	// Deleted is the manifest deleted, by digest.
	Deleted reference.Reference
	// Tags are the tags that named the manifest before the delete, sorted.
	// None of them resolves to it any more.
	Tags []string
	// Untagged are those of Tags the registry kept after deleting the
	// manifest by digest (go-containerregistry's registry does), which
	// Delete then removed one by one with DELETE by tag.
	Untagged []string
}

// RemainsError is Delete's error when the registry accepted the delete
// but still serves the manifest, or tags naming it, afterwards.
type RemainsError struct {
	// Result is what was deleted.
	Result *DeleteResult
	// Manifest is true when the manifest still resolves by digest.
	Manifest bool
	// Tags still resolve to the manifest.
	Tags []string
	// Err is why the tags could not be removed (the registry refuses
	// DELETE by tag), or nil.
	Err error
}

func (e *RemainsError) Error() string {
	var what []string
	if e.Manifest {
		what = append(what, "the manifest still resolves by digest")
	}
	if len(e.Tags) > 0 {
		what = append(what, fmt.Sprintf("tag(s) %s still resolve to it", strings.Join(e.Tags, ", ")))
	}
	msg := fmt.Sprintf("%s: the registry accepted the delete, but %s", e.Result.Deleted, strings.Join(what, " and "))
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns Err.
func (e *RemainsError) Unwrap() error { return e.Err }

// Delete removes the manifest ref names from its v2 registry, with every
// tag naming it. A tag is first resolved to its digest, and the tags of
// the repository that name the same manifest are listed; the manifest is
// then deleted by digest, as skopeo does. Registries differ in what that
// removes, so Delete checks afterwards: a tag the registry kept is deleted
// by tag, and a manifest or tag that still resolves is a *RemainsError,
// not success. The blobs stay until the registry garbage-collects. The
// registry must allow deletion (distribution: storage.delete.enabled).
// Call options: WithWarnings (the tags could not be listed).
func (s *Session) Delete(ctx context.Context, ref string, opts ...Option) (*DeleteResult, error) {
	o, err := s.call(opts)
	if err != nil {
		return nil, err
	}
	l, err := registryLocation("Delete", ref)
	if err != nil {
		return nil, err
	}
	if err := s.requireV2(ctx, l.Ref.Registry, "manifest deletion"); err != nil {
		return nil, err
	}
	st, err := s.OpenLocationReader(ctx, l)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	d, ok := st.Reader.(store.Deleter)
	if !ok {
		return nil, fmt.Errorf("%s cannot delete manifests", l)
	}
	desc, err := st.Reader.Resolve(ctx, "")
	if err != nil {
		return nil, err
	}
	tags, err := tagsNaming(ctx, st.Reader, desc.Digest)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		o.warning(fmt.Errorf("listing the tags that name %s: %w; checking only %s", desc.Digest, err, ref))
	}
	if l.Ref.Tag != "" && !slices.Contains(tags, l.Ref.Tag) {
		tags = append(tags, l.Ref.Tag)
		sort.Strings(tags)
	}
	if err := d.Delete(ctx, desc); err != nil {
		return nil, err
	}
	res := &DeleteResult{
		Deleted: reference.Reference{Registry: l.Ref.Registry, Repository: l.Ref.Repository, Digest: desc.Digest},
		Tags:    tags,
	}
	kept, err := stillNaming(ctx, st.Reader, desc.Digest, tags)
	if err != nil {
		return nil, fmt.Errorf("%s was deleted, but checking its tags afterwards failed: %w", res.Deleted, err)
	}
	var untagErr error
	if u, ok := st.Reader.(store.Untagger); ok {
		for _, t := range kept {
			if err := u.Untag(ctx, t); err != nil && !errors.Is(err, store.ErrNotFound) {
				untagErr = err
				break
			}
			res.Untagged = append(res.Untagged, t)
		}
	}
	left, err := stillNaming(ctx, st.Reader, desc.Digest, kept)
	if err != nil {
		return nil, fmt.Errorf("%s was deleted, but checking its tags afterwards failed: %w", res.Deleted, err)
	}
	res.Untagged = without(res.Untagged, left)
	_, err = st.Reader.Resolve(ctx, desc.Digest.String())
	manifestLeft := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%s was deleted, but checking it afterwards failed: %w", res.Deleted, err)
	}
	if manifestLeft || len(left) > 0 {
		return nil, &RemainsError{Result: res, Manifest: manifestLeft, Tags: left, Err: untagErr}
	}
	return res, nil
}

// tagsNaming lists the tags of r that resolve to d, sorted.
func tagsNaming(ctx context.Context, r store.Reader, d digest.Digest) ([]string, error) {
	tl, ok := r.(store.TagLister)
	if !ok {
		return nil, errors.New("the repository cannot list its tags")
	}
	all, err := tl.Tags(ctx, store.Page{N: maxTagsChecked})
	if err != nil {
		return nil, err
	}
	return stillNaming(ctx, r, d, all)
}

// stillNaming returns those of tags that resolve to d, sorted, asking
// about a few at a time. A tag that resolves to nothing is not an error.
func stillNaming(ctx context.Context, r store.Reader, d digest.Digest, tags []string) ([]string, error) {
	naming := make([]bool, len(tags))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, t := range tags {
		g.Go(func() error {
			got, err := r.Resolve(gctx, t)
			switch {
			case errors.Is(err, store.ErrNotFound):
				return nil
			case err != nil:
				return err
			}
			naming[i] = got.Digest == d
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []string
	for i, t := range tags {
		if naming[i] {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out, nil
}

// without returns list without the elements of drop.
func without(list, drop []string) []string {
	var out []string
	for _, x := range list {
		if !slices.Contains(drop, x) {
			out = append(out, x)
		}
	}
	return out
}
