package syncer

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/copy"
	"github.com/hoist-dev/hoist/store"
)

// syncTag brings one tag of the target up to the source's: it resolves
// the source tag (one HEAD, none with WithFast when the state knows it),
// skips it when the state or the target shows it there, and copies it
// otherwise.
func (rr *repoRun) syncTag(ctx context.Context, tag string) {
	st := rr.r.s.o.state
	item := Item{Source: rr.srcKey, Target: rr.dstKey, Tag: tag}
	var desc ocispec.Descriptor
	known, ok := st.source(rr.srcKey, tag)
	if !ok && rr.fresh(ctx, tag) {
		// Nothing to compare with: one GET resolves and fetches it.
		rr.r.image(func() { rr.copyNew(ctx, item, tag) })
		return
	}
	if ok && rr.r.s.o.fast {
		desc = descOf(known)
	} else {
		d, err := rr.src.Resolve(ctx, tag)
		if errors.Is(err, store.ErrNotFound) {
			// Gone between the listing and now: nothing to mirror.
			item.Action, item.Reason = ActionSkip, "gone from the source"
			rr.r.record(item)
			return
		}
		if err != nil {
			rr.fail(item, "resolving the source tag", err)
			return
		}
		desc = d
		st.setSource(rr.srcKey, tag, SourceTag{Digest: d.Digest, MediaType: d.MediaType, Size: d.Size})
	}
	item.Digest = desc.Digest
	rr.sync(ctx, item, tag, tag, desc)
}

// fresh reports whether tag is new to an empty target, which no state
// or target check can skip, and which is copied as it is (no platforms
// chosen, no referrers to compare): then resolving it is the copy's own
// GET, not a HEAD before it.
func (rr *repoRun) fresh(ctx context.Context, tag string) bool {
	if rr.r.s.o.dryRun || len(rr.plat) > 0 || rr.refs {
		return false
	}
	if _, ok := rr.r.s.o.state.target(rr.dstKey, tag); ok {
		return false
	}
	return rr.targetEmpty(ctx)
}

// copyNew copies tag into the empty target, resolving it as it goes.
func (rr *repoRun) copyNew(ctx context.Context, item Item, tag string) {
	dst, err := rr.target(ctx)
	if err != nil {
		rr.fail(item, "opening the target", err)
		return
	}
	res, err := rr.r.copier(rr.opts, rr.plat, rr.refs).Copy(ctx, rr.src, tag, dst, tag)
	if errors.Is(err, store.ErrNotFound) && res == nil {
		item.Action, item.Reason = ActionSkip, "gone from the source"
		rr.r.record(item)
		return
	}
	if err != nil {
		rr.fail(item, "copying", err)
		return
	}
	d := res.Source
	rr.r.s.o.state.setSource(rr.srcKey, tag, SourceTag{Digest: d.Digest, MediaType: d.MediaType, Size: d.Size})
	rr.done(item, tag, d, res, nil)
}

// syncPin mirrors one pinned digest, under its tag or untagged. A pin the
// state shows in the target costs no request at all.
func (rr *repoRun) syncPin(ctx context.Context, p pin) {
	item := Item{Source: rr.srcKey, Target: rr.dstKey, Tag: p.tag, Digest: p.digest}
	if tt, ok := rr.r.s.o.state.target(rr.dstKey, p.key()); ok && tt.Source == p.digest && tt.Options == rr.opts && !rr.refs {
		item.Action, item.Reason = ActionSkip, "unchanged"
		rr.r.record(item)
		return
	}
	desc, err := rr.src.Resolve(ctx, p.digest.String())
	if err != nil {
		rr.fail(item, "resolving the pinned digest", err)
		return
	}
	rr.sync(ctx, item, p.key(), p.tag, desc)
}

// sync decides and does the copy of desc to tag ("" for none), recorded
// in the state under key.
func (rr *repoRun) sync(ctx context.Context, item Item, key, tag string, desc ocispec.Descriptor) {
	st := rr.r.s.o.state
	var refs []digest.Digest
	if rr.refs {
		var err error
		if refs, err = rr.referrers(ctx, desc.Digest); err != nil {
			rr.fail(item, "listing the source's referrers", err)
			return
		}
	}
	tt, known := st.target(rr.dstKey, key)
	if known && tt.Source == desc.Digest && tt.Options == rr.opts && slices.Equal(tt.Referrers, refs) {
		item.Action, item.Reason = ActionSkip, "unchanged"
		rr.r.record(item)
		return
	}
	item.Reason = "new"
	if known {
		item.Reason = "changed"
	}
	rr.r.image(func() { rr.update(ctx, item, key, tag, desc, refs, known) })
}

// update checks the target and copies desc to it, within the run's
// bound on images at once.
func (rr *repoRun) update(ctx context.Context, item Item, key, tag string, desc ocispec.Descriptor, refs []digest.Digest, known bool) {
	st := rr.r.s.o.state
	dst, err := rr.target(ctx)
	if err != nil {
		rr.fail(item, "opening the target", err)
		return
	}
	// Without the state's word, ask the target, unless it is empty or
	// holds a converted image whose digest only a copy can tell.
	if !known && len(rr.plat) == 0 && len(refs) == 0 && dst != nil && !rr.targetEmpty(ctx) {
		ref := tag
		if ref == "" {
			ref = desc.Digest.String()
		}
		if d, err := dst.Resolve(ctx, ref); err == nil && d.Digest == desc.Digest {
			if !rr.r.s.o.dryRun {
				st.setTarget(rr.dstKey, key, TargetTag{Source: desc.Digest, Digest: d.Digest, Options: rr.opts})
			}
			item.Action, item.Reason = ActionSkip, "in the target"
			rr.r.record(item)
			return
		} else if err == nil {
			item.Reason = "changed"
		}
	}
	item.Action = ActionCopy
	if rr.r.s.o.dryRun {
		rr.r.record(item)
		return
	}
	c := rr.r.copier(rr.opts, rr.plat, rr.refs)
	res, err := c.CopyDescriptor(ctx, rr.src, desc, dst, tag)
	if err != nil {
		rr.fail(item, "copying", err)
		return
	}
	rr.done(item, key, desc, res, refs)
}

// done records a copy of desc under key in the state and the result.
func (rr *repoRun) done(item Item, key string, desc ocispec.Descriptor, res *copy.Result, refs []digest.Digest) {
	rr.r.s.o.state.setTarget(rr.dstKey, key, TargetTag{Source: desc.Digest, Digest: res.Descriptor.Digest, Options: rr.opts, Referrers: refs})
	item.Action, item.Digest = ActionCopy, desc.Digest
	if item.Reason == "" {
		item.Reason = "new"
	}
	item.Blobs, item.Copied, item.Mounted, item.Bytes = res.Blobs, res.Transferred, res.Mounted, res.Bytes
	rr.r.record(item)
}

func (rr *repoRun) fail(item Item, reason string, err error) {
	item.Action, item.Reason, item.Error = ActionFail, reason, err.Error()
	if ctxErr := context.Cause(rr.r.ctx); ctxErr != nil && errors.Is(err, ctxErr) {
		item.Error = fmt.Sprintf("stopped: %v", err)
	}
	rr.r.record(item)
}
