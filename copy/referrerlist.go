package copy

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
)

// sourceTags is a source's tag list, fetched once.
type sourceTags struct {
	once sync.Once
	done atomic.Bool // set and err are final
	set  map[string]bool
	err  error
}

// listing is a list of referrers being fetched.
type listing struct {
	done chan struct{}
	list []Referrer
	err  error
}

// prefetch starts listing the referrers of subject now, for list to take
// later, unless this job or another copy of the Copier already has; it
// ends with ctx.
func (j *referrerJob) prefetch(ctx context.Context, subject digest.Digest) {
	j.c.mu.Lock()
	_, handled := j.c.refs.subjects[flightKey{j.dst, subject}] // another copy of this Copier has it
	j.c.mu.Unlock()
	if handled {
		return
	}
	l := &listing{done: make(chan struct{})}
	j.mu.Lock()
	if _, dup := j.pre[subject]; dup {
		j.mu.Unlock()
		return
	}
	if j.pre == nil {
		j.pre = map[digest.Digest]*listing{}
	}
	j.pre[subject] = l
	j.mu.Unlock()
	go func() {
		defer close(l.done)
		l.list, l.err = j.fetchList(ctx, subject)
	}()
}

// checked returns, for WithReferrersCheck, the referrers of subject the
// prefetch found: none when it failed, or did not end within checkWait.
func (j *referrerJob) checked(ctx context.Context, subject digest.Digest) []Referrer {
	if j == nil || !j.c.o.refs.checkOnly() {
		return nil
	}
	j.mu.Lock()
	l := j.pre[subject]
	j.mu.Unlock()
	if l == nil {
		return nil
	}
	// The listing ran beside the whole copy; a registry still not done
	// answering it must not hold up a copy that is done.
	t := time.NewTimer(checkWait)
	defer t.Stop()
	select {
	case <-l.done:
		return l.list
	case <-t.C:
	case <-ctx.Done():
	}
	return nil
}

// checkWait bounds how long a finished copy waits for WithReferrersCheck's
// listing.
const checkWait = 2 * time.Second

// list finds the referrers of subject in the source (see fetchList),
// taking a listing prefetch started.
func (j *referrerJob) list(ctx context.Context, subject digest.Digest) ([]Referrer, error) {
	j.mu.Lock()
	l := j.pre[subject]
	j.mu.Unlock()
	if l == nil {
		return j.fetchList(ctx, subject)
	}
	select {
	case <-l.done:
		return l.list, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fetchList lists the referrers of subject the source names by subject
// (WithReferrers) and cosign's tags for it (WithCosignTags), the two at
// once. A source that keeps referrers only in referrers tags
// (store.ReferrersInTags), whose tag list is at hand, is not asked about a
// subject whose tag it lacks.
func (j *referrerJob) fetchList(ctx context.Context, subject digest.Digest) ([]Referrer, error) {
	o := j.c.o.refs
	var byField, byTag []Referrer
	g, gctx := errgroup.WithContext(ctx)
	if rl, ok := j.src.(store.ReferrerLister); ok && (o.on || o.checkOnly()) && !j.noReferrersTag(subject) {
		g.Go(func() error {
			at := ""
			if len(o.types) == 1 {
				at = o.types[0] // filtered by the registry where it can; again below
			}
			ds, err := rl.Referrers(gctx, subject, at)
			if err != nil {
				return fmt.Errorf("list the referrers of %s: %w", subject, err)
			}
			for _, d := range ds {
				if o.wants(d.ArtifactType) && isManifest(d) {
					byField = append(byField, Referrer{Subject: subject, Descriptor: d})
				}
			}
			return nil
		})
	}
	if o.cosignTags() {
		g.Go(func() error {
			tags, err := j.c.sourceTags(gctx, j.src)
			if err != nil {
				return err
			}
			for _, t := range content.CosignTags(subject) {
				if !tags[t] {
					continue
				}
				d, err := j.src.Resolve(gctx, t)
				if err != nil {
					return fmt.Errorf("resolve cosign tag %s: %w", t, err)
				}
				byTag = append(byTag, Referrer{Subject: subject, Descriptor: d, Tag: t})
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return append(byField, byTag...), nil
}

// noReferrersTag reports whether the source is known to keep referrers
// only in tags and its tag list, already fetched, lacks subject's.
func (j *referrerJob) noReferrersTag(subject digest.Digest) bool {
	ri, ok := j.src.(store.ReferrersInTags)
	if !ok || !ri.ReferrersOnlyInTags() {
		return false
	}
	tags, ok := j.c.fetchedTags(j.src)
	return ok && !tags[content.ReferrersTag(subject)]
}

// sourceTags returns the set of src's tags, listed once per Copier. A
// source that cannot list tags has none.
func (c *Copier) sourceTags(ctx context.Context, src store.Reader) (map[string]bool, error) {
	tl, ok := src.(store.TagLister)
	if !ok {
		return nil, nil
	}
	c.mu.Lock()
	if c.refs.tags == nil {
		c.refs.tags = map[store.Reader]*sourceTags{}
	}
	t := c.refs.tags[src]
	if t == nil {
		t = &sourceTags{}
		c.refs.tags[src] = t
	}
	c.mu.Unlock()
	t.once.Do(func() {
		tags, err := tl.Tags(ctx, store.Page{})
		if err != nil {
			t.err = fmt.Errorf("list the source's tags for cosign's signature tags: %w", err)
			return
		}
		t.set = map[string]bool{}
		for _, tag := range tags {
			t.set[tag] = true
		}
		t.done.Store(true)
	})
	return t.set, t.err
}

// fetchedTags returns src's tag list if sourceTags has fetched it.
func (c *Copier) fetchedTags(src store.Reader) (map[string]bool, bool) {
	c.mu.Lock()
	t := c.refs.tags[src]
	c.mu.Unlock()
	if t == nil || !t.done.Load() {
		return nil, false
	}
	return t.set, true
}
