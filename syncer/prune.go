package syncer

import (
	"context"
	"errors"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/store"
)

// prune deletes the target's tags that are in the synced set (this sync
// wrote them, or the entry's filters select their like) and that the
// source no longer gives: not among keep.
func (rr *repoRun) prune(ctx context.Context, keep []string) {
	dst, err := rr.target(ctx)
	if err != nil {
		rr.r.record(Item{Source: rr.srcKey, Target: rr.dstKey, Action: ActionFail, Reason: "opening the target to prune", Error: err.Error()})
		return
	}
	tl, ok := dst.(store.TagLister)
	if !ok {
		return // a dry run's layout that does not exist yet
	}
	have, err := tl.Tags(ctx, store.Page{})
	if errors.Is(err, store.ErrNotFound) {
		return
	}
	if err != nil {
		rr.r.record(Item{Source: rr.srcKey, Target: rr.dstKey, Action: ActionFail, Reason: "listing the target's tags to prune", Error: err.Error()})
		return
	}
	kept := make(map[string]bool, len(keep))
	for _, t := range keep {
		kept[t] = true
	}
	synced := rr.r.s.o.state.targetTags(rr.dstKey)
	for _, tag := range have {
		if kept[tag] {
			continue
		}
		if _, ours := synced[tag]; !ours && !rr.job.filter.selects(tag) {
			continue
		}
		rr.deleteTag(ctx, tag, kept, synced)
	}
}

// deleteTag removes one target tag: by tag where the target can, else by
// deleting its manifest, when no kept tag names the same one.
func (rr *repoRun) deleteTag(ctx context.Context, tag string, kept map[string]bool, synced map[string]TargetTag) {
	item := Item{Source: rr.srcKey, Target: rr.dstKey, Tag: tag, Action: ActionDelete, Reason: "gone from the source"}
	desc, err := rr.dst.Resolve(ctx, tag) // opened by prune
	if err != nil {
		rr.fail(item, "resolving the tag to prune", err)
		return
	}
	item.Digest = desc.Digest
	if rr.r.s.o.dryRun {
		rr.r.record(item)
		return
	}
	err = rr.untag(ctx, tag, desc, kept, synced)
	if err != nil {
		rr.fail(item, "pruning", err)
		return
	}
	rr.r.s.o.state.dropTarget(rr.dstKey, tag)
	rr.r.record(item)
}

func (rr *repoRun) untag(ctx context.Context, tag string, desc ocispec.Descriptor, kept map[string]bool, synced map[string]TargetTag) error {
	var err error = errdef.ErrUnsupported
	if u, ok := rr.dst.(store.Untagger); ok {
		err = u.Untag(ctx, tag)
	}
	if !errors.Is(err, errdef.ErrUnsupported) {
		return err
	}
	for t, tt := range synced {
		if kept[t] && tt.Digest == desc.Digest {
			return fmt.Errorf("the target cannot delete a tag alone, and its manifest is also tag %s, which the sync keeps: %w", t, err)
		}
	}
	d, ok := rr.dst.(store.Deleter)
	if !ok {
		return err
	}
	return d.Delete(ctx, desc)
}
