package copy

import (
	"context"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
)

// splitReferrerTags takes out of a CopyAll's tags those that hold
// referrers rather than images, when this Copier copies referrers: the
// referrers tags (WithReferrers) and cosign's tags (WithCosignTags).
// Copied as tags, a referrers tag would replace the target's own list.
func (c *Copier) splitReferrerTags(tags []string) (images, later []string) {
	o := c.o.refs
	if !o.on && !o.cosign {
		return tags, nil
	}
	for _, t := range tags {
		_, isRefs := content.ReferrersTagSubject(t)
		if isRefs && o.on || content.IsCosignTag(t) && o.cosignTags() {
			later = append(later, t)
			continue
		}
		images = append(images, t)
	}
	return images, later
}

// copyReferrerTags handles the tags splitReferrerTags set aside, after
// every image was copied with its referrers: the referrers a referrers tag
// lists whose subject no tag reached are copied (into the target's
// referrers, merged), and a cosign tag not yet copied with its image is
// copied as a tag. Each gives a Result whose Source and Descriptor are
// the subject, by digest.
func (c *Copier) copyReferrerTags(ctx context.Context, src store.Reader, dst store.Writer, tags []string) ([]*Result, error) {
	var out []*Result
	for _, t := range tags {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if subject, ok := content.ReferrersTagSubject(t); ok {
			r, err := c.referrersOnly(ctx, src, dst, subject)
			if err != nil {
				return nil, fmt.Errorf("referrers tag %s: %w", t, err)
			}
			if len(r.Referrers) > 0 {
				out = append(out, r)
			}
			continue
		}
		c.mu.Lock()
		done := c.refs.cosign[tagKey{dst, t}]
		c.mu.Unlock()
		if done {
			continue
		}
		r, err := c.Copy(ctx, src, t, dst, t)
		if err != nil {
			return nil, fmt.Errorf("tag %s: %w", t, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// referrersOnly copies the referrers of subject (not subject itself),
// unless this Copier already did.
func (c *Copier) referrersOnly(ctx context.Context, src store.Reader, dst store.Writer, subject digest.Digest) (*Result, error) {
	c.mu.Lock()
	_, done := c.refs.subjects[flightKey{dst, subject}]
	c.mu.Unlock()
	desc := ocispec.Descriptor{Digest: subject, Size: -1}
	res := &Result{Source: desc, Descriptor: desc}
	if done {
		return res, nil
	}
	var st stats
	j := c.newReferrerJob(src, dst, &st, false)
	if err := j.run(ctx, []digest.Digest{subject}, nil); err != nil {
		return nil, err
	}
	res.Referrers = sortReferrers(j.wrote)
	res.Blobs = j.extraBlobs(&node{})
	res.Transferred, res.Skipped, res.Mounted = st.count(BlobDone), st.count(BlobSkipped), st.count(BlobMounted)
	res.Bytes = st.bytes.Load()
	return res, nil
}
