package ocilayout

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
)

// maxGraphDepth bounds how deep Delete looks through nested indexes for
// other users of a manifest.
const maxGraphDepth = 8

// Stat describes the blob d under blobs/ (store.Statter): its digest and
// size, and the media type index.json gives it when it is a root.
func (l *Layout) Stat(ctx context.Context, d digest.Digest) (ocispec.Descriptor, error) {
	if err := checkBlob(ctx, d); err != nil {
		return ocispec.Descriptor{}, err
	}
	fi, err := os.Stat(l.blobPath(d))
	if errors.Is(err, fs.ErrNotExist) || err == nil && !fi.Mode().IsRegular() {
		return ocispec.Descriptor{}, fmt.Errorf("OCI layout %s has no blob %s: %w", l.dir, d, store.ErrNotFound)
	}
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("OCI layout %s: %w", l.dir, err)
	}
	desc := ocispec.Descriptor{Digest: d, Size: fi.Size()}
	if ix, err := l.readIndex(); err == nil {
		for _, e := range ix.entries {
			if e.desc.Digest == d {
				desc.MediaType = e.desc.MediaType
			}
		}
	}
	return desc, nil
}

// Untag removes tag from index.json (store.Untagger). The manifest stays
// a root of the layout: untagged, unless another entry already lists it.
// A tag the layout lacks matches store.ErrNotFound.
func (l *Layout) Untag(ctx context.Context, tag string) error {
	if err := reference.ValidateTag(tag); err != nil {
		return store.InvalidLocation(err)
	}
	err := l.updateIndex(ctx, func(ix *index) (bool, error) {
		found := false
		all := append([]*entry(nil), ix.entries...)
		kept := ix.entries[:0]
		for _, e := range all {
			if e.refName() != tag {
				kept = append(kept, e)
				continue
			}
			found = true
			if containsEntry(all, e.desc.Digest, e) {
				continue
			}
			delete(e.desc.Annotations, ocispec.AnnotationRefName)
			if err := e.setAnnotations(); err != nil {
				return false, err
			}
			kept = append(kept, e)
		}
		ix.entries = kept
		if !found {
			return false, fmt.Errorf("OCI layout %s has no tag %q: %w", l.dir, tag, store.ErrNotFound)
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("untag %q in OCI layout %s: %w", tag, l.dir, err)
	}
	return nil
}

// containsEntry reports whether entries list d in an entry other than e.
func containsEntry(entries []*entry, d digest.Digest, e *entry) bool {
	for _, o := range entries {
		if o != e && o.desc.Digest == d {
			return true
		}
	}
	return false
}

// Delete removes desc from the layout (store.Deleter). A manifest or
// index (by media type) loses every index.json entry, tagged or not, and
// its blob is removed unless a remaining image still refers to it (a
// platform of an index); the blobs it refers to stay. Any other desc is a
// blob, removed from blobs/. What the layout lacks matches
// store.ErrNotFound.
func (l *Layout) Delete(ctx context.Context, desc ocispec.Descriptor) error {
	if err := validDigest(desc.Digest); err != nil {
		return err
	}
	if ok, err := l.Exists(ctx, ocispec.Descriptor{Digest: desc.Digest, Size: -1}); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("OCI layout %s has no %s: %w", l.dir, desc.Digest, store.ErrNotFound)
	}
	if !isManifest(desc) {
		return l.removeBlob(desc.Digest)
	}
	return l.updateIndex(ctx, func(ix *index) (bool, error) {
		kept := ix.entries[:0]
		for _, e := range ix.entries {
			if e.desc.Digest != desc.Digest {
				kept = append(kept, e)
			}
		}
		changed := len(kept) != len(ix.entries)
		ix.entries = kept
		used, err := l.usedBy(ctx, ix, desc.Digest)
		if err != nil {
			return false, err
		}
		if !used {
			if err := l.removeBlob(desc.Digest); err != nil {
				return false, err
			}
		}
		return changed, nil
	})
}

func (l *Layout) removeBlob(d digest.Digest) error {
	if err := os.Remove(l.blobPath(d)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("OCI layout %s: %w", l.dir, err)
	}
	return nil
}

// usedBy reports whether a root of ix, or an index under one, lists the
// manifest d.
func (l *Layout) usedBy(ctx context.Context, ix *index, d digest.Digest) (bool, error) {
	var walk func(desc ocispec.Descriptor, depth int) (bool, error)
	walk = func(desc ocispec.Descriptor, depth int) (bool, error) {
		if content.KindOf(desc.MediaType) != content.KindIndex || depth > maxGraphDepth {
			return false, nil
		}
		rc, err := l.Fetch(ctx, desc)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		defer rc.Close()
		m, err := content.ReadManifest(rc, desc.MediaType, content.DefaultMaxManifestSize)
		if err != nil || m.Index == nil {
			return false, nil // not ours to judge: it does not list d
		}
		for _, ch := range m.Index.Manifests {
			if ch.Digest == d {
				return true, nil
			}
			if used, err := walk(ch, depth+1); used || err != nil {
				return used, err
			}
		}
		return false, nil
	}
	for _, e := range ix.entries {
		if used, err := walk(e.desc, 0); used || err != nil {
			return used, err
		}
	}
	return false, nil
}
