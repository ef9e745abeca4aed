package ocilayout

import (
	"context"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
)

// Tag records desc, a manifest or index already pushed, as a root of the
// layout in index.json.
//
//   - A non-empty tag is set as desc's org.opencontainers.image.ref.name.
//     The tag moves: an entry that had it for another digest is removed
//     (as skopeo and umoci do), and an untagged entry for desc is reused.
//   - An empty tag adds desc as an untagged root, unless index.json already
//     lists desc, tagged or not.
//
// The update is safe against other processes tagging the same layout (see
// the package documentation); whatever they add survives. A desc the
// layout lacks is an error matching store.ErrNotFound.
func (l *Layout) Tag(ctx context.Context, desc ocispec.Descriptor, tag string) error {
	ok, err := l.Exists(ctx, desc)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("tag %q in OCI layout %s: %s is not in the layout; push it first: %w", tag, l.dir, desc.Digest, store.ErrNotFound)
	}
	if k := content.KindOf(desc.MediaType); k != content.KindImage && k != content.KindIndex {
		return fmt.Errorf("tag %q in OCI layout %s: %s has media type %q, not a manifest or index", tag, l.dir, desc.Digest, desc.MediaType)
	}
	if err := l.flush(); err != nil {
		return fmt.Errorf("tag %q in OCI layout %s: making the blobs durable: %w", tag, l.dir, err)
	}
	err = l.updateIndex(ctx, func(ix *index) (bool, error) { return ix.tag(desc, tag) })
	if err != nil {
		return fmt.Errorf("tag %q in OCI layout %s: %w", tag, l.dir, err)
	}
	return nil
}

// tag changes ix so that tag names desc, reporting whether anything
// changed.
func (ix *index) tag(desc ocispec.Descriptor, tag string) (bool, error) {
	if tag == "" {
		for _, e := range ix.entries {
			if e.desc.Digest == desc.Digest {
				return false, nil
			}
		}
		e, err := newEntry(desc, "")
		if err != nil {
			return false, err
		}
		ix.entries = append(ix.entries, e)
		return true, nil
	}
	changed := false
	kept := ix.entries[:0]
	has := false
	for _, e := range ix.entries {
		if e.refName() == tag {
			if e.desc.Digest == desc.Digest && !has {
				has = true
				kept = append(kept, e)
				continue
			}
			changed = true // the tag moves away from this entry
			continue
		}
		kept = append(kept, e)
	}
	ix.entries = kept
	if has {
		return changed, nil
	}
	for _, e := range ix.entries {
		if e.desc.Digest == desc.Digest && e.refName() == "" {
			return true, e.setRefName(tag)
		}
	}
	e, err := newEntry(desc, tag)
	if err != nil {
		return false, err
	}
	ix.entries = append(ix.entries, e)
	return true, nil
}
