package copy

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/hoist-dev/hoist/store"
)

// tagParallelism is how many tags CopyAll keeps in flight, which bounds
// only memory (each holds its manifests). What bounds the work is the
// requests: a tag's manifest GETs, existence checks and PUTs take the
// slots small blobs use (Copier.request), and blob transfers stay bounded
// by the Copier's concurrency, so the round trips of many tags overlap.
const tagParallelism = 64

// CopyAll copies every tag of src (which must list its tags) to the same tag
// in dst. Blobs shared between tags move once. It stops at the first
// failure, naming the tag; results are in the order src lists its tags.
//
// With WithReferrers, referrers tags (sha256-HEX) are not copied as tags:
// the referrers they list are copied with their subject, merged into the
// target's own (see copyReferrerTags); so are cosign's tags with
// WithCosignTags. Each referrer is copied once.
func (c *Copier) CopyAll(ctx context.Context, src store.Reader, dst store.Writer) ([]*Result, error) {
	tl, ok := src.(store.TagLister)
	if !ok {
		return nil, fmt.Errorf("the source cannot list its tags (store.TagLister), so CopyAll does not apply to it")
	}
	tags, err := tl.Tags(ctx, store.Page{})
	if err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return nil, fmt.Errorf("the source has no tags to copy")
	}
	tags, later := c.splitReferrerTags(tags)
	results := make([]*Result, len(tags))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(tagParallelism)
	for i, tag := range tags {
		g.Go(func() error {
			r, err := c.copy(gctx, src, tag, dst, tag, false)
			if err != nil {
				return fmt.Errorf("tag %s: %w", tag, err)
			}
			results[i] = r
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	rest, err := c.copyReferrerTags(ctx, src, dst, later)
	if err != nil {
		return nil, err
	}
	return append(results, rest...), nil
}
