package hoist

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/copy"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/archive"
)

type referrerOptions struct {
	on     bool
	types  []string
	cosign bool
}

// WithReferrers makes Copy, Pull and Push copy each image's referrers
// (signatures, SBOMs, attestations: manifests whose subject is a manifest
// of the image), and theirs in turn, before the image's tag is set, with
// digests unchanged (copy.WithReferrers); a registry target without the
// referrers API gets them merged into its referrers tag. Without
// artifactTypes cosign's legacy sha256-HEX.sig, .att and .sbom tags go
// too (WithCosignTags). With artifactTypes only referrers of those types
// are copied, at every level; Referrers lists only those.
//
// A docker archive cannot hold referrers: WithReferrers with one as the
// destination is an *OptionError.
func WithReferrers(artifactTypes ...string) Option {
	return func(o *options) {
		r := o.referrerOpts()
		r.on, r.types = true, append([]string(nil), artifactTypes...)
	}
}

// WithCosignTags makes Copy, Pull and Push copy cosign's legacy tags of
// each image (sha256-HEX.sig, .att, .sbom) with it, before its tag is set
// (copy.WithCosignTags); Referrers lists them too.
func WithCosignTags() Option {
	return func(o *options) { o.referrerOpts().cosign = true }
}

func (o *options) referrerOpts() *referrerOptions {
	if o.referrers == nil {
		o.referrers = &referrerOptions{}
	} else {
		c := *o.referrers // a session default stays as it was
		o.referrers = &c
	}
	return o.referrers
}

// copyReferrerOptions turns the referrer options into the copy engine's.
func (o options) copyReferrerOptions() []copy.Option {
	out := o.referrersCheck()
	if r := o.referrers; r != nil {
		if r.on {
			out = append(out, copy.WithReferrers(r.types...))
		}
		if r.cosign {
			out = append(out, copy.WithCosignTags())
		}
	}
	return out
}

func (o options) copiesReferrers() bool {
	return o.referrers != nil && (o.referrers.on || o.referrers.cosign)
}

// checkReferrersTarget refuses to copy referrers where they cannot go.
func (o options) checkReferrersTarget(dst store.Location) error {
	if o.copiesReferrers() && dst.Kind == archive.Kind {
		return optionErrorf("WithReferrers", "%s is a docker archive, which cannot hold referrers (signatures, SBOMs); copy to an OCI layout (oci:DIR) to keep them", dst)
	}
	return nil
}

// ReferrersLostError is the warning (see WithWarnings) that a copy left
// referrers of the source behind: signatures, SBOMs or attestations of
// the image, found beside the copy (at no cost in time; only when the
// caller listens for warnings) or while copying referrers.
type ReferrersLostError struct {
	// Referrers are those left behind: for a copy without WithReferrers,
	// those of the image itself (not theirs in turn).
	Referrers []copy.Referrer
	// Archive is set when the destination is a docker archive, which
	// cannot hold them.
	Archive bool
	// NotAsked is set when the copy was not asked to copy referrers
	// (WithReferrers). When neither is set, the copy changed or left out
	// the manifests they refer to (WithPlatforms, WithFormat).
	NotAsked bool
}

func (e *ReferrersLostError) Error() string {
	why := "the copy changed or left out the manifests they refer to (WithPlatforms, WithFormat)"
	switch {
	case e.Archive:
		why = "a docker archive cannot hold them; copy to an OCI layout (oci:DIR) with WithReferrers to keep them"
	case e.NotAsked:
		why = "copy them with WithReferrers"
	}
	return fmt.Sprintf("the source has %d referrer(s) (signatures, SBOMs, attestations) that were not copied: %s", len(e.Referrers), why)
}

// referrersCheck is the copy option that looks for the referrers a copy
// would leave behind, for a warning: only when someone listens.
func (o options) referrersCheck() []copy.Option {
	if o.warn == nil || o.copiesReferrers() {
		return nil
	}
	return []copy.Option{copy.WithReferrersCheck()}
}

// warnLostReferrers tells the caller what referrers the copy left behind.
func (s *Session) warnLostReferrers(o options, dst store.Location, res *CopyResult) {
	var left []copy.Referrer
	for _, r := range res.Images {
		left = append(left, r.ReferrersLeft...)
	}
	if len(left) > 0 {
		o.warning(&ReferrersLostError{Referrers: left, Archive: dst.Kind == archive.Kind, NotAsked: !o.copiesReferrers()})
	}
}

// ReferrerTree is what Referrers reports: a manifest and the tree of
// manifests that refer to it. Its JSON form is what `hoist referrers
// --json` prints.
type ReferrerTree struct {
	// Reference is the location as given.
	Reference string `json:"reference"`
	// Subject is the manifest the tree hangs from.
	Subject ocispec.Descriptor `json:"subject"`
	// Referrers are its referrers, by artifact type and digest.
	Referrers []*ReferrerNode `json:"referrers"`
}

// ReferrerNode is one referrer in a ReferrerTree.
type ReferrerNode struct {
	// Descriptor is the referrer's manifest, with the artifact type and
	// annotations the location lists.
	ocispec.Descriptor
	// Tag is the cosign legacy tag it was found under (WithCosignTags);
	// "" for a referrer found through its subject field.
	Tag string `json:"tag,omitempty"`
	// Referrers are the manifests referring to this one.
	Referrers []*ReferrerNode `json:"referrers,omitempty"`
}

// Bounds of a Referrers walk.
const (
	maxTreeDepth = 16
	maxTreeNodes = 10_000
)

// Referrers lists the manifests referring to the one ref names (a
// registry image or an OCI layout; with WithPlatforms, the image of that
// platform), and theirs in turn: the referrers API of a registry, its
// referrers tag where it has none, a layout's index.json. WithReferrers'
// artifact types keep only referrers of those types, at every level;
// WithCosignTags adds cosign's legacy tags of the manifest (the location
// must list its tags). Each level is listed at once, for all its
// manifests; the walk stops at 16 levels or 10000 referrers with an
// error.
func (s *Session) Referrers(ctx context.Context, ref string, opts ...Option) (*ReferrerTree, error) {
	ctx = s.bounded(ctx)
	o, err := s.call(opts)
	if err != nil {
		return nil, err
	}
	r, err := s.resolve(ctx, ref, opts)
	if err != nil {
		return nil, err
	}
	defer r.st.Close()
	rl, ok := r.st.Reader.(store.ReferrerLister)
	if !ok {
		return nil, fmt.Errorf("%s cannot hold referrers (%s): there is nothing to list", r.st.Location, r.st.Location.Kind.Description)
	}
	ro := referrerOptions{on: true}
	if o.referrers != nil {
		ro.types, ro.cosign = o.referrers.types, o.referrers.cosign
	}
	w := &treeWalk{src: r.st.Reader, rl: rl, o: ro}
	tree := &ReferrerTree{Reference: ref, Subject: r.desc}
	tree.Referrers, err = w.level(ctx, r.desc.Digest, 0)
	if err != nil {
		return nil, err
	}
	return tree, nil
}

// treeWalk is one Referrers call's walk.
type treeWalk struct {
	src store.Reader
	rl  store.ReferrerLister
	o   referrerOptions

	mu    sync.Mutex
	count int
	tags  map[string]bool // the location's tags, for cosign's (listed once)
}

// level lists the referrers of subject and, at once for each, theirs.
func (w *treeWalk) level(ctx context.Context, subject digest.Digest, depth int) ([]*ReferrerNode, error) {
	if depth >= maxTreeDepth {
		return nil, fmt.Errorf("referrers of %s: nested more than %d deep", subject, maxTreeDepth)
	}
	list, err := w.rl.Referrers(ctx, subject, "")
	if err != nil {
		return nil, err
	}
	var nodes []*ReferrerNode
	for _, d := range list {
		if len(w.o.types) == 0 || slices.Contains(w.o.types, d.ArtifactType) {
			nodes = append(nodes, &ReferrerNode{Descriptor: d})
		}
	}
	if w.o.cosign && depth == 0 {
		tagged, err := w.cosignTags(ctx, subject)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, tagged...)
	}
	w.mu.Lock()
	w.count += len(nodes)
	over := w.count > maxTreeNodes
	w.mu.Unlock()
	if over {
		return nil, fmt.Errorf("referrers of %s: more than %d in the tree", subject, maxTreeNodes)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, n := range nodes {
		if n.Tag != "" {
			continue
		}
		g.Go(func() error {
			var err error
			n.Referrers, err = w.level(gctx, n.Digest, depth+1)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	slices.SortFunc(nodes, func(a, b *ReferrerNode) int {
		return cmp.Or(cmp.Compare(a.ArtifactType, b.ArtifactType), cmp.Compare(a.Tag, b.Tag), cmp.Compare(a.Digest, b.Digest))
	})
	return nodes, nil
}

// cosignTags finds cosign's legacy tags of subject.
func (w *treeWalk) cosignTags(ctx context.Context, subject digest.Digest) ([]*ReferrerNode, error) {
	tl, ok := w.src.(store.TagLister)
	if !ok {
		return nil, errors.New("the location cannot list its tags, so cosign's tags cannot be found")
	}
	if w.tags == nil {
		tags, err := tl.Tags(ctx, store.Page{})
		if err != nil {
			return nil, fmt.Errorf("list tags for cosign's: %w", err)
		}
		w.tags = map[string]bool{}
		for _, t := range tags {
			w.tags[t] = true
		}
	}
	var out []*ReferrerNode
	for _, t := range content.CosignTags(subject) {
		if !w.tags[t] {
			continue
		}
		d, err := w.src.Resolve(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("resolve cosign tag %s: %w", t, err)
		}
		out = append(out, &ReferrerNode{Descriptor: d, Tag: t})
	}
	return out, nil
}

// Referrers lists the tree of referrers of the manifest ref names; see
// Session.Referrers.
func Referrers(ctx context.Context, ref string, opts ...Option) (*ReferrerTree, error) {
	return oneCall(opts, func(s *Session) (*ReferrerTree, error) { return s.Referrers(ctx, ref) })
}
