package copy

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
)

// Referrer is one referrer a copy wrote, or left behind.
type Referrer struct {
	// Subject is the digest of the manifest it refers to.
	Subject digest.Digest
	// Descriptor is the referrer's manifest, with the artifact type and
	// annotations the source listed.
	Descriptor ocispec.Descriptor
	// Tag is the cosign legacy tag it was found under, and given in the
	// target; "" for a referrer found through its subject field.
	Tag string
}

// Bounds of a referrers walk: how deep referrers of referrers go, and how
// many one Copier copies. Both are far beyond what signing and SBOM tools
// produce; they only stop a registry that lists without end.
const (
	maxReferrerDepth = 16
	maxReferrers     = 100_000
)

type referrerOptions struct {
	on     bool     // WithReferrers
	types  []string // its artifact types; none: all
	cosign bool     // WithCosignTags
	check  bool     // WithReferrersCheck
}

// copies reports whether referrers are copied at all.
func (o referrerOptions) copies() bool { return o.on || o.cosign }

// checkOnly reports whether referrers are only looked for.
func (o referrerOptions) checkOnly() bool { return o.check && !o.copies() }

// cosignTags reports whether cosign's legacy tags are copied.
func (o referrerOptions) cosignTags() bool { return o.cosign || o.on && len(o.types) == 0 }

func (o referrerOptions) wants(artifactType string) bool {
	return len(o.types) == 0 || slices.Contains(o.types, artifactType)
}

// WithReferrers copies, with each image, the manifests that refer to it
// through their subject field (OCI 1.1 referrers: signatures, SBOMs,
// attestations), and theirs in turn (a signature of an SBOM), for every
// manifest of the copied graph: an index and each of its images. They
// are listed with store.ReferrerLister (a registry's referrers API, or
// its referrers tag where it has none; a layout's index.json) and written
// byte for byte before the image's tag is set, so a tag never appears in
// the target without them. A registry target without the referrers API
// gets them added to its referrers tag, merged with what it lists.
//
// With artifactTypes, only referrers of those artifact types are copied,
// at every level. Without, cosign's legacy tags (sha256-HEX.sig, .att,
// .sbom) are copied too, as WithCosignTags does. A source that cannot
// list referrers contributes none.
func WithReferrers(artifactTypes ...string) Option {
	return func(o *options) {
		o.refs.on = true
		o.refs.types = append([]string(nil), artifactTypes...)
	}
}

// WithReferrersCheck makes a copy that copies no referrers (neither
// WithReferrers nor WithCosignTags) look for those of the root beside it,
// and list them in Result.ReferrersLeft: what the copy leaves behind,
// for a warning. It costs one listing per copy (two requests on a
// registry without the referrers API), overlapped with the copy; its
// failure is not the copy's. CopyAll does not look: without WithReferrers
// it copies referrers tags and cosign tags as the tags they are.
func WithReferrersCheck() Option { return func(o *options) { o.refs.check = true } }

// WithCosignTags copies, with each image, the tags cosign's legacy scheme
// derives from the digest of every manifest of the copied graph
// (sha256-HEX.sig, .att, .sbom), under the same names, before the image's
// tag is set. The source must list its tags (store.TagLister); it is
// listed once per Copier.
func WithCosignTags() Option { return func(o *options) { o.refs.cosign = true } }

// referrerState is a Copier's memory of referrers across its copies, so
// each is copied once (CopyAll). Guarded by Copier.mu.
type referrerState struct {
	subjects map[flightKey]*flight // the referrers of a subject, written to a target
	tags     map[store.Reader]*sourceTags
	cosign   map[tagKey]bool // cosign tags written
	count    int
}

type tagKey struct {
	dst store.Writer
	tag string
}

// referrerJob copies the referrers found under one Copy.
type referrerJob struct {
	c   *Copier
	src store.Reader
	dst store.Writer
	st  *stats

	mu    sync.Mutex
	pre   map[digest.Digest]*listing // listings started early (prefetch)
	wrote []Referrer
	left  []Referrer
	nodes []*node
}

// newReferrerJob returns the job of one Copy, or nil when the Copier
// copies no referrers.
func (c *Copier) newReferrerJob(src store.Reader, dst store.Writer, st *stats, check bool) *referrerJob {
	if !c.o.refs.copies() && !(check && c.o.refs.checkOnly()) {
		return nil
	}
	return &referrerJob{c: c, src: src, dst: dst, st: st}
}

// work returns the copying of the referrers of n's graph into res, to run
// before n is written; nil for a nil job. root is what the source
// reference resolved to.
func (j *referrerJob) work(root ocispec.Descriptor, n *node, res *Result) func(context.Context) error {
	if j == nil || j.c.o.refs.checkOnly() {
		return nil
	}
	return func(ctx context.Context) error {
		kept, changed := graphSubjects(root, n)
		if err := j.run(ctx, kept, changed); err != nil {
			return err
		}
		res.Referrers, res.ReferrersLeft = sortReferrers(j.wrote), sortReferrers(j.left)
		res.Blobs += j.extraBlobs(n)
		return nil
	}
}

// run copies the referrers of kept and lists those of changed as left.
func (j *referrerJob) run(ctx context.Context, kept, changed []digest.Digest) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, d := range kept {
		g.Go(func() error { return j.subject(gctx, d, 0) })
	}
	for _, d := range changed {
		g.Go(func() error {
			list, err := j.list(gctx, d)
			j.mu.Lock()
			j.left = append(j.left, list...)
			j.mu.Unlock()
			return err
		})
	}
	return g.Wait()
}

// graphSubjects splits the manifests of n's graph into those written as
// the source has them, whose referrers follow, and the source digests of
// those changed or left out (root itself, when a platform was picked from
// it), whose referrers cannot.
func graphSubjects(root ocispec.Descriptor, n *node) (kept, changed []digest.Digest) {
	seen := map[digest.Digest]bool{}
	if root.Digest != n.src {
		seen[root.Digest] = true
		changed = append(changed, root.Digest)
	}
	var walk func(*node)
	walk = func(n *node) {
		if seen[n.src] {
			return
		}
		seen[n.src] = true
		if n.desc.Digest == n.src {
			kept = append(kept, n.src)
		} else {
			changed = append(changed, n.src)
		}
		for _, ch := range n.children {
			walk(ch)
		}
	}
	walk(n)
	return kept, changed
}

// subject copies the referrers of subject, once per Copier and target:
// a second copy asking waits for the first.
func (j *referrerJob) subject(ctx context.Context, subject digest.Digest, depth int) error {
	if depth > maxReferrerDepth {
		return fmt.Errorf("referrers of %s: nested more than %d deep", subject, maxReferrerDepth)
	}
	c := j.c
	key := flightKey{j.dst, subject}
	c.mu.Lock()
	if c.refs.subjects == nil {
		c.refs.subjects = map[flightKey]*flight{}
	}
	if f, ok := c.refs.subjects[key]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			if f.err == nil {
				return nil
			}
			return j.copySubject(ctx, subject, depth)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	c.refs.subjects[key] = f
	c.mu.Unlock()
	f.err = j.copySubject(ctx, subject, depth)
	if f.err != nil {
		c.mu.Lock()
		delete(c.refs.subjects, key)
		c.mu.Unlock()
	}
	close(f.done)
	return f.err
}

func (j *referrerJob) copySubject(ctx context.Context, subject digest.Digest, depth int) error {
	list, err := j.list(ctx, subject)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, r := range list {
		g.Go(func() error { return j.referrer(gctx, r, depth) })
	}
	return g.Wait()
}

// isManifest reports whether d, as a referrers list gives it, is a
// manifest or index hoist copies.
func isManifest(d ocispec.Descriptor) bool {
	k := content.KindOf(d.MediaType)
	return k == content.KindImage || k == content.KindIndex
}

// referrer copies one referrer's graph, byte for byte, and then (beside
// it) the referrers of each of its manifests. A manifest listed as a
// referrer of a subject it does not name is not one, and is skipped.
func (j *referrerJob) referrer(ctx context.Context, r Referrer, depth int) error {
	c := j.c
	if r.Tag == "" {
		// Its own referrers need only its digest: list them beside its
		// manifest's fetch. They are used only once that shows it refers
		// to r.Subject.
		j.prefetch(ctx, r.Descriptor.Digest)
	}
	n, err := c.planWith(ctx, j.src, r.Descriptor, 1, new(int), false) // depth 1: no platform filter
	if err != nil {
		return fmt.Errorf("referrer %s of %s: %w", r.Descriptor.Digest, r.Subject, err)
	}
	if r.Tag == "" {
		if s := n.m.Subject(); s == nil || s.Digest != r.Subject {
			return nil
		}
	}
	c.mu.Lock()
	c.refs.count++
	over := c.refs.count > maxReferrers
	if r.Tag != "" {
		if c.refs.cosign == nil {
			c.refs.cosign = map[tagKey]bool{}
		}
		c.refs.cosign[tagKey{j.dst, r.Tag}] = true
	}
	c.mu.Unlock()
	if over {
		return fmt.Errorf("referrers of %s: more than %d referrers in one copy", r.Subject, maxReferrers)
	}
	c.announce(n)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return j.write(gctx, n, r.Tag) })
	if r.Tag == "" {
		// Cosign's tags describe images; what refers to their signatures
		// is not part of the scheme.
		walkNodes(n, func(m *node) {
			g.Go(func() error { return j.subject(gctx, m.desc.Digest, depth+1) })
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	j.mu.Lock()
	j.wrote = append(j.wrote, r)
	j.nodes = append(j.nodes, n)
	j.mu.Unlock()
	return nil
}

// write puts a referrer's graph into the target and records its root
// there: untagged (a layout lists it in index.json; a registry needs
// nothing) or under its cosign tag. The root is written even where the
// target has it, so that a registry without the referrers API indexes it
// (a PUT costs what the existence check would).
func (j *referrerJob) write(ctx context.Context, n *node, tag string) error {
	tagged, err := j.c.writeTree(ctx, j.src, j.dst, n, tag, j.st, nil)
	if err != nil {
		return err
	}
	if !tagged {
		if err := j.dst.Tag(ctx, n.desc, tag); err != nil {
			return fmt.Errorf("record referrer %s in the target: %w", n.desc.Digest, err)
		}
	}
	return nil
}

func walkNodes(n *node, f func(*node)) {
	f(n)
	for _, ch := range n.children {
		walkNodes(ch, f)
	}
}

// extraBlobs counts the distinct blobs of the referrers written that the
// image graph n does not have.
func (j *referrerJob) extraBlobs(n *node) int {
	seen := map[digest.Digest]bool{}
	walkNodes(n, func(m *node) {
		for _, b := range m.blobs {
			seen[b.Digest] = true
		}
	})
	extra := 0
	for _, r := range j.nodes {
		walkNodes(r, func(m *node) {
			for _, b := range m.blobs {
				if !seen[b.Digest] {
					seen[b.Digest] = true
					extra++
				}
			}
		})
	}
	return extra
}

func sortReferrers(rs []Referrer) []Referrer {
	slices.SortFunc(rs, func(a, b Referrer) int {
		return cmp.Or(cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Descriptor.Digest, b.Descriptor.Digest), cmp.Compare(a.Tag, b.Tag))
	})
	return slices.CompactFunc(rs, func(a, b Referrer) bool {
		return a.Subject == b.Subject && a.Descriptor.Digest == b.Descriptor.Digest && a.Tag == b.Tag
	})
}
