package archive

import (
	"context"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/store"
)

// Stat describes what the archive holds under digest d (store.Statter):
// an image's manifest (with its media type), or a config or layer file.
func (r *Reader) Stat(ctx context.Context, d digest.Digest) (ocispec.Descriptor, error) {
	if err := ctx.Err(); err != nil {
		return ocispec.Descriptor{}, err
	}
	for _, img := range r.images {
		if img.Descriptor.Digest == d {
			return img.Descriptor, nil
		}
	}
	if m, ok := r.blobs[d]; ok {
		return ocispec.Descriptor{Digest: d, Size: m.size}, nil
	}
	return ocispec.Descriptor{}, fmt.Errorf("docker archive %s has no blob %s: %w", r.path, d, store.ErrNotFound)
}

// Stat describes what was written under digest d (store.Statter): a blob
// already in the tar, or a manifest pushed.
func (w *Writer) Stat(ctx context.Context, d digest.Digest) (ocispec.Descriptor, error) {
	if err := ctx.Err(); err != nil {
		return ocispec.Descriptor{}, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if m := w.manifests[d]; m != nil {
		return m.Descriptor, nil
	}
	if size, ok := w.blobs[d]; ok {
		return ocispec.Descriptor{Digest: d, Size: size}, nil
	}
	return ocispec.Descriptor{}, fmt.Errorf("docker archive %s has no blob %s: %w", w.path, d, store.ErrNotFound)
}

// Untag removes the name the Writer's reference gives with tag from the
// image it names (store.Untagger); the image stays in the archive, under
// its other names or untagged. A name no image has matches
// store.ErrNotFound.
func (w *Writer) Untag(ctx context.Context, tag string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if w.ref.Repository == "" {
		return fmt.Errorf("untag %q: docker-archive:%s names its images by no repository: %w", tag, w.path, store.ErrNotFound)
	}
	name, err := w.ref.Context().WithTag(tag)
	if err != nil {
		return store.InvalidLocation(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errClosed(w.path)
	}
	for _, rt := range w.roots {
		if n := len(rt.tags); n > 0 {
			if rt.tags = removeName(rt.tags, name); len(rt.tags) < n {
				return nil
			}
		}
	}
	return fmt.Errorf("docker archive %s has no image named %s: %w", w.path, name.Familiar(), store.ErrNotFound)
}

// Delete takes manifest desc out of the archive being written
// (store.Deleter): it stops being an image of it, with all its names, and
// its blobs stay in the tar, unreferenced (docker load ignores them). A
// blob cannot be taken out of the tar: deleting one is an error matching
// errdef.ErrUnsupported. What was not written matches store.ErrNotFound.
func (w *Writer) Delete(ctx context.Context, desc ocispec.Descriptor) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errClosed(w.path)
	}
	if content.KindOf(desc.MediaType) == content.KindUnknown {
		return fmt.Errorf("delete blob %s from docker archive %s: a blob already in the tar stays; delete the manifests that use it instead: %w", desc.Digest, w.path, errdef.ErrUnsupported)
	}
	m := w.manifests[desc.Digest]
	if m == nil {
		return fmt.Errorf("docker archive %s has no manifest %s: %w", w.path, desc.Digest, store.ErrNotFound)
	}
	delete(w.manifests, desc.Digest)
	kept := w.roots[:0]
	for _, rt := range w.roots {
		if rt.m != m {
			kept = append(kept, rt)
		}
	}
	w.roots = kept
	return nil
}
