package copy

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
)

// Copier copies images between stores. One Copier may run many copies at
// once (CopyAll does); they share its concurrency bound, and a blob that
// two of them need in the same target is transferred once. A Copier is safe
// for concurrent use.
type Copier struct {
	o        options
	bulk     *slots        // bulk transfers, largest first: WithConcurrency
	parts    *slots        // extra connections of split blobs (ranged.go)
	smallSem chan struct{} // small blobs, bound by round trips, not bandwidth

	mu       sync.Mutex
	inflight map[flightKey]*flight
	siblings map[siblingKey]*siblingFlight // first transfers into a registry (siblings.go)
	empty    map[store.Writer]*emptyCheck
	unranged map[store.Reader]bool    // sources that ignore Range (ranged.go)
	fastest  map[store.Reader]float64 // the best window rate of a source's connections (ranged.go)
	refs     referrerState            // WithReferrers, WithCosignTags: referrers.go
}

// emptyCheck is the once-per-target answer to "was it empty?".
type emptyCheck struct {
	once  sync.Once
	empty bool
}

type flightKey struct {
	dst store.Writer
	d   digest.Digest
}

type flight struct {
	done chan struct{}
	err  error
}

// New returns a Copier with the given options.
func New(opts ...Option) *Copier {
	o := defaults()
	for _, f := range opts {
		f(&o)
	}
	return &Copier{o: o, bulk: newSlots(o.concurrency), parts: newSlots(partConnections(o.concurrency)), smallSem: make(chan struct{}, smallConcurrency), inflight: map[flightKey]*flight{}, empty: map[store.Writer]*emptyCheck{}}
}

// Result says what one copy did.
type Result struct {
	// Source is the descriptor the source reference resolved to.
	Source ocispec.Descriptor
	// Descriptor is the root written to the target. It differs from Source
	// when platforms were selected or the format converted.
	Descriptor ocispec.Descriptor
	// Tag is the tag given to the root in the target ("" for none).
	Tag string
	// Blobs counts the distinct blobs of the copied graph; Transferred,
	// Skipped and Mounted say what happened to them (a blob another copy of
	// the same Copier moved counts as skipped).
	Blobs, Transferred, Skipped, Mounted int
	// Bytes is how many blob bytes were transferred.
	Bytes int64
	// Referrers lists the referrers written before the root was tagged
	// (WithReferrers, WithCosignTags), each once per Copier, ordered by
	// subject and digest. Their blobs are counted in Blobs and the counts
	// above.
	Referrers []Referrer
	// ReferrersLeft lists the source's referrers of manifests the copy did
	// not write as they were (an index WithPlatforms filtered or picked
	// from, a manifest WithFormat converted): their subject is not in the
	// target, so they were not copied.
	ReferrersLeft []Referrer
}

// stats records what happened to each distinct blob of one Copy. A blob
// referenced by several manifests is handled once; the others wait for it,
// and the first outcome recorded is the one counted.
type stats struct {
	mu      sync.Mutex
	outcome map[digest.Digest]EventKind // BlobDone, BlobSkipped or BlobMounted
	bytes   atomic.Int64
}

func (s *stats) record(d digest.Digest, k EventKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outcome == nil {
		s.outcome = map[digest.Digest]EventKind{}
	}
	if _, ok := s.outcome[d]; !ok {
		s.outcome[d] = k
	}
}

func (s *stats) count(k EventKind) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, o := range s.outcome {
		if o == k {
			n++
		}
	}
	return n
}

// node is a manifest or index of the graph to copy, with the bytes that
// will be written (the source's, or converted/filtered ones).
type node struct {
	desc     ocispec.Descriptor
	src      digest.Digest // the source's digest of it: desc's unless filtered or converted
	raw      []byte
	m        *content.Manifest
	children []*node              // manifests of an index
	blobs    []ocispec.Descriptor // config and layers of an image
}

// Copy copies the image srcRef names in src (see store.Reader.Resolve) to
// dst, and tags its root tag there ("" for none). It returns what it did;
// on error nothing is tagged, and whatever blobs were written stay as
// harmless, unreferenced content.
func (c *Copier) Copy(ctx context.Context, src store.Reader, srcRef string, dst store.Writer, tag string) (*Result, error) {
	return c.copy(ctx, src, srcRef, dst, tag, true)
}

// copy is Copy; check says whether WithReferrersCheck looks for the
// root's referrers (CopyAll looks in its tag list instead).
func (c *Copier) copy(ctx context.Context, src store.Reader, srcRef string, dst store.Writer, tag string, check bool) (*Result, error) {
	root, first, err := c.resolveRoot(ctx, src, srcRef)
	if err != nil {
		return nil, err
	}
	return c.copyRoot(ctx, src, root, first, dst, tag, check, true)
}

// CopyDescriptor is Copy for a root the caller has resolved already (a
// sync that listed and resolved the source's tags), so the source is not
// asked for it again, and the target is not asked whether tag already
// names it: the caller has decided that it does not. Everything else is
// as Copy: blobs the target has are skipped, the tag is set last.
func (c *Copier) CopyDescriptor(ctx context.Context, src store.Reader, root ocispec.Descriptor, dst store.Writer, tag string) (*Result, error) {
	return c.copyRoot(ctx, src, root, nil, dst, tag, true, false)
}

// copyRoot copies the graph under root (whose manifest is first, when
// resolving fetched it already); tagCheck says whether to ask dst first
// whether tag already names it.
func (c *Copier) copyRoot(ctx context.Context, src store.Reader, root ocispec.Descriptor, first *content.Manifest, dst store.Writer, tag string, check, tagCheck bool) (*Result, error) {
	var st stats
	j := c.newReferrerJob(src, dst, &st, check) // nil when there are no referrers to copy or look for
	if j != nil {
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		j.prefetch(pctx, root.Digest) // beside the plan: the root's referrers need only its digest
	}
	n, err := c.planFrom(ctx, src, root, first, 0, new(int), c.o.format == FormatOCI)
	if err != nil {
		return nil, err
	}
	res := &Result{Source: root, Descriptor: n.desc, Tag: tag}
	res.Blobs = c.announce(n)
	refs := j.work(root, n, res)
	if tagCheck && c.alreadyTagged(ctx, dst, n.desc, tag) {
		c.o.events(Event{Kind: BlobSkipped, Descriptor: n.desc})
		if refs != nil {
			if err := refs(ctx); err != nil {
				return nil, err
			}
		}
		c.o.events(Event{Kind: Tagged, Descriptor: n.desc, Tag: tag})
		res.Transferred, res.Mounted, res.Bytes = st.count(BlobDone), st.count(BlobMounted), st.bytes.Load()
		res.Skipped = res.Blobs - res.Transferred - res.Mounted // the image's, and referrers' the target had
		res.ReferrersLeft = append(res.ReferrersLeft, j.checked(ctx, root.Digest)...)
		return res, nil
	}
	tagged, err := c.writeNode(ctx, src, dst, n, tag, &st, refs)
	if err != nil {
		return nil, err
	}
	if !tagged {
		if err := dst.Tag(ctx, n.desc, tag); err != nil {
			return nil, fmt.Errorf("tag %s: %w", describe(n.desc), err)
		}
	}
	c.o.events(Event{Kind: Tagged, Descriptor: n.desc, Tag: tag})
	res.ReferrersLeft = append(res.ReferrersLeft, j.checked(ctx, root.Digest)...)
	res.Transferred, res.Skipped, res.Mounted = st.count(BlobDone), st.count(BlobSkipped), st.count(BlobMounted)
	res.Bytes = st.bytes.Load()
	return res, nil
}

// writeNode writes n and everything under it that dst lacks: blobs first,
// then image manifests, then n itself. With a tag (the root only) and a
// target that can, n is pushed and tagged at once; tagged reports that.
// extra, when not nil, runs beside the children and must succeed before n
// is written (the root's referrers), whether or not dst has n already.
func (c *Copier) writeNode(ctx context.Context, src store.Reader, dst store.Writer, n *node, tag string, st *stats, extra func(context.Context) error) (tagged bool, err error) {
	// A manifest the target has is complete there (stores only accept
	// manifests after their children), so its whole subtree is skipped.
	var ok bool
	err = c.request(ctx, func() (err error) {
		ok, err = c.exists(ctx, dst, n.desc)
		return err
	})
	if err != nil {
		return false, err
	}
	if ok {
		c.o.events(Event{Kind: BlobSkipped, Descriptor: n.desc})
		if extra != nil {
			return false, extra(ctx)
		}
		return false, nil
	}
	return c.writeTree(ctx, src, dst, n, tag, st, extra)
}

// writeTree is writeNode without the check of n itself: n's children and
// blobs (each checked), extra beside them, then n.
func (c *Copier) writeTree(ctx context.Context, src store.Reader, dst store.Writer, n *node, tag string, st *stats, extra func(context.Context) error) (tagged bool, err error) {
	g, gctx := errgroup.WithContext(ctx)
	if extra != nil {
		g.Go(func() error { return extra(gctx) })
	}
	for _, ch := range n.children {
		g.Go(func() error {
			_, err := c.writeNode(gctx, src, dst, ch, "", st, nil)
			return err
		})
	}
	// Largest first: each bulk blob takes its place in the queue for a
	// slot now, in size order (sched.go).
	blobs := append([]ocispec.Descriptor(nil), n.blobs...)
	sort.SliceStable(blobs, func(i, j int) bool { return blobs[i].Size > blobs[j].Size })
	for _, b := range blobs {
		var t *ticket
		if b.Size < 0 || b.Size >= smallBlob {
			t = c.bulk.enqueue(b.Size)
		}
		g.Go(func() error { return c.blob(gctx, src, dst, b, st, t) })
	}
	if err := g.Wait(); err != nil {
		return false, err
	}
	err = c.request(ctx, func() error {
		if tp, ok := dst.(store.TagPusher); ok && tag != "" {
			tagged = true
			return tp.PushTagged(ctx, n.desc, bytes.NewReader(n.raw), tag)
		}
		return dst.Push(ctx, n.desc, bytes.NewReader(n.raw))
	})
	if err != nil {
		return false, fmt.Errorf("write %s: %w", describe(n.desc), err)
	}
	c.o.events(Event{Kind: ManifestPushed, Descriptor: n.desc, Bytes: n.desc.Size})
	return tagged, nil
}

// exists asks dst whether it has desc, except when dst was empty when this
// Copier first wrote to it: then only what this Copier wrote is there, and
// its flights already account for that.
func (c *Copier) exists(ctx context.Context, dst store.Writer, desc ocispec.Descriptor) (bool, error) {
	if c.wasEmpty(ctx, dst) {
		return false, nil
	}
	ok, err := dst.Exists(ctx, desc)
	if err != nil {
		return false, fmt.Errorf("check %s in the target: %w", describe(desc), err)
	}
	return ok, nil
}

// wasEmpty reports whether dst held nothing when this Copier first asked.
func (c *Copier) wasEmpty(ctx context.Context, dst store.Writer) bool {
	ec, ok := dst.(store.EmptyChecker)
	if !ok {
		return false
	}
	c.mu.Lock()
	e := c.empty[dst]
	if e == nil {
		e = &emptyCheck{}
		c.empty[dst] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		empty, err := ec.Empty(ctx)
		e.empty = err == nil && empty // on doubt, check everything
	})
	return e.empty
}

// alreadyTagged reports whether dst's tag already names desc, in which case
// there is nothing to copy at all.
func (c *Copier) alreadyTagged(ctx context.Context, dst store.Writer, desc ocispec.Descriptor, tag string) bool {
	r, ok := dst.(store.Reader)
	if !ok || tag == "" || c.wasEmpty(ctx, dst) {
		return false
	}
	d, err := r.Resolve(ctx, tag)
	return err == nil && d.Digest == desc.Digest
}

// Bounds of one image graph: indexes nested deeper than MaxDepth, or more
// than MaxManifests manifests in all (an index naming one child many times
// over, level after level, makes exponentially many), are refused before
// anything is written.
const (
	MaxDepth     = 32
	MaxManifests = 10_000
)

// plan fetches the manifests of the graph under desc, applying the platform
// filter at the root (depth 0) and the format conversion everywhere;
// count is how many manifests the whole graph has fetched so far.
func (c *Copier) plan(ctx context.Context, src store.Reader, desc ocispec.Descriptor, depth int, count *int) (*node, error) {
	return c.planWith(ctx, src, desc, depth, count, c.o.format == FormatOCI)
}

// planWith is plan, converting to OCI only when convert is set.
func (c *Copier) planWith(ctx context.Context, src store.Reader, desc ocispec.Descriptor, depth int, count *int, convert bool) (*node, error) {
	return c.planFrom(ctx, src, desc, nil, depth, count, convert)
}

// planFrom is planWith; m, when not nil, is desc's manifest, read already.
func (c *Copier) planFrom(ctx context.Context, src store.Reader, desc ocispec.Descriptor, m *content.Manifest, depth int, count *int, convert bool) (*node, error) {
	root := depth == 0
	if depth > MaxDepth {
		return nil, fmt.Errorf("%s: indexes are nested more than %d deep; hoist copies at most that", describe(desc), MaxDepth)
	}
	if *count++; *count > MaxManifests {
		return nil, fmt.Errorf("%s: the image graph holds more than %d manifests; hoist copies at most that", describe(desc), MaxManifests)
	}
	if m == nil {
		var err error
		if m, err = c.fetchManifest(ctx, src, desc); err != nil {
			return nil, err
		}
	}
	n := &node{desc: desc, src: desc.Digest, raw: m.Raw, m: m}
	n.desc.MediaType = m.Descriptor.MediaType
	// The bytes matched the digest, so their length is the size: a root
	// resolved by HEAD may have been given a wrong Content-Length.
	n.desc.Size = int64(len(m.Raw))
	switch m.Kind {
	case content.KindLegacy:
		return nil, fmt.Errorf("%s is a Docker schema 1 manifest, which hoist reads but does not copy: push the image again with a current tool to get a schema 2 or OCI manifest", describe(desc))
	case content.KindImage:
		n.blobs = append(n.blobs, m.Image.Config)
		n.blobs = append(n.blobs, m.Image.Layers...)
	case content.KindIndex:
		if root && len(c.o.platforms) > 0 {
			sel, err := c.selectPlatforms(m)
			if err != nil {
				return nil, err
			}
			if len(c.o.platforms) == 1 {
				return c.planWith(ctx, src, sel[0], depth+1, count, convert)
			}
			if n, err = filteredIndex(n, sel); err != nil {
				return nil, err
			}
		}
		for _, d := range n.m.Index.Manifests {
			ch, err := c.planWith(ctx, src, d, depth+1, count, convert)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, ch)
		}
	default:
		return nil, fmt.Errorf("%s has media type %q, which is not a manifest or index hoist can copy", describe(desc), desc.MediaType)
	}
	if convert {
		return toOCI(n)
	}
	return n, nil
}

// resolveRoot resolves srcRef in src and, where src can do both in one
// step (store.ManifestResolver: one GET by tag from a registry), reads the
// root's manifest too; first is nil otherwise.
func (c *Copier) resolveRoot(ctx context.Context, src store.Reader, srcRef string) (ocispec.Descriptor, *content.Manifest, error) {
	mr, ok := src.(store.ManifestResolver)
	if !ok {
		d, err := src.Resolve(ctx, srcRef)
		return d, nil, err
	}
	var d ocispec.Descriptor
	var raw []byte
	err := c.request(ctx, func() (err error) {
		d, raw, err = mr.ResolveManifest(ctx, srcRef)
		return err
	})
	if err != nil {
		return d, nil, err
	}
	if int64(len(raw)) > c.o.maxManifest {
		return d, nil, content.TooLargeError("manifest "+d.Digest.String(), c.o.maxManifest)
	}
	m, err := content.Decode(d.MediaType, raw)
	if err != nil {
		return d, nil, fmt.Errorf("read %s: %w", describe(d), err)
	}
	if err := m.Verify(d.Digest); err != nil {
		return d, nil, err
	}
	return d, m, nil
}

func (c *Copier) fetchManifest(ctx context.Context, src store.Reader, desc ocispec.Descriptor) (*content.Manifest, error) {
	if desc.Size > c.o.maxManifest {
		return nil, content.TooLargeError("manifest "+desc.Digest.String(), c.o.maxManifest)
	}
	var m *content.Manifest
	err := c.request(ctx, func() error {
		rc, err := src.Fetch(ctx, desc)
		if err != nil {
			return fmt.Errorf("fetch %s: %w", describe(desc), err)
		}
		defer rc.Close()
		if m, err = content.ReadManifest(rc, desc.MediaType, c.o.maxManifest); err != nil {
			return fmt.Errorf("read %s: %w", describe(desc), err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := m.Verify(desc.Digest); err != nil {
		return nil, err
	}
	return m, nil
}

// request runs f, one request or two of manifest work (a GET, an
// existence check, a PUT), in one of the slots small blobs use: what is
// bound by round trips shares one bound, however many tags are in flight.
// f must not take a slot itself.
func (c *Copier) request(ctx context.Context, f func() error) error {
	select {
	case c.smallSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c.smallSem }()
	return f()
}

// announce emits the Planned event for n's graph and returns its number of
// distinct blobs.
func (c *Copier) announce(n *node) int {
	seen := map[digest.Digest]bool{}
	var total int64
	var walk func(*node)
	walk = func(n *node) {
		for _, b := range n.blobs {
			if !seen[b.Digest] {
				seen[b.Digest] = true
				total += b.Size
			}
		}
		for _, ch := range n.children {
			walk(ch)
		}
	}
	walk(n)
	c.o.events(Event{Kind: Planned, Descriptor: n.desc, Bytes: total, Count: len(seen)})
	return len(seen)
}

// describe names a descriptor in messages: "image manifest sha256:abcd… (1.2 kB)".
func describe(d ocispec.Descriptor) string {
	kind := "blob"
	switch content.KindOf(d.MediaType) {
	case content.KindImage:
		kind = "manifest"
	case content.KindIndex:
		kind = "index"
	case content.KindLegacy:
		kind = "schema 1 manifest"
	default:
		if content.IsLayer(d.MediaType) {
			kind = "layer"
		} else if d.MediaType == content.MediaTypeOCIConfig || d.MediaType == content.MediaTypeDockerConfig {
			kind = "config"
		}
	}
	return fmt.Sprintf("%s %s (%s)", kind, d.Digest, content.HumanSize(d.Size))
}
