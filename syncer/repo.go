package syncer

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/ocilayout"
	"github.com/hoist-dev/hoist/store/remote"
)

// source is what a sync reads a repository through.
type source interface {
	store.Reader
	store.TagLister
}

// target is what a sync writes a repository through.
type target interface {
	store.Reader
	store.Writer
}

// repoRun is one repository being synced.
type repoRun struct {
	r       *run
	job     repoJob
	srcKey  string
	dstKey  string
	src     source
	opts    string // the copy options, as TargetTag.Options records them
	refs    bool
	plat    []string
	emptyMu sync.Once
	empty   bool

	dstOnce sync.Once
	dst     target // nil in a dry run whose layout does not exist yet
	dstErr  error
}

// target opens the target repository on first use: a run the state
// answers whole never reaches the target at all.
func (rr *repoRun) target(ctx context.Context) (target, error) {
	rr.dstOnce.Do(func() { rr.dst, rr.dstErr = rr.r.openTarget(ctx, rr.job) })
	return rr.dst, rr.dstErr
}

func (j repoJob) srcKey() string {
	if j.src.layout {
		return "oci:" + filepath.Join(j.src.dir, j.repo)
	}
	return j.src.host + "/" + j.repo
}

func (j repoJob) dstKey() string {
	if j.dst.layout {
		return "oci:" + filepath.Join(j.dst.dir, j.target)
	}
	return j.dst.host + "/" + j.target
}

// syncRepo syncs one repository: lists and filters its tags, then checks
// and copies each (many at once, across repositories), then prunes.
func (r *run) syncRepo(job repoJob) {
	ctx := r.ctx
	rr := &repoRun{r: r, job: job, srcKey: job.srcKey(), dstKey: job.dstKey()}
	rr.plat = r.s.cfg.platforms(job.entry)
	rr.refs = r.s.cfg.referrers(job.entry)
	rr.opts = optionsKey(rr.plat, rr.refs)
	fail := func(reason string, err error) {
		r.record(Item{Source: rr.srcKey, Target: rr.dstKey, Action: ActionFail, Reason: reason, Error: err.Error()})
	}
	var err error
	if rr.src, err = r.openSource(ctx, job); err != nil {
		fail("opening the source", err)
		return
	}
	f := job.filter
	var listed []string
	if f.needsListing() {
		r.probePaging(ctx, rr.src)
		listed, err = rr.src.Tags(ctx, store.Page{})
		if err != nil {
			if !job.src.layout {
				err = r.s.explain(ctx, job.src.host, err)
			}
			fail("listing the tags", err)
			return
		}
		r.s.o.state.keepSources(rr.srcKey, listed)
	}
	tags := f.apply(listed)
	// Each tag is resolved as soon as the listing returns, bounded by
	// the host's limits only: an image slot (Defaults.Images) is taken
	// for what a copy does, not for the HEAD that finds nothing to do,
	// so a no-op run keeps the host's whole concurrency busy.
	var wg sync.WaitGroup
	for _, tag := range tags {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rr.syncTag(ctx, tag)
		}()
	}
	for _, p := range f.pins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rr.syncPin(ctx, p)
		}()
	}
	wg.Wait()
	if r.s.o.prune && ctx.Err() == nil {
		keep := slices.Clone(tags)
		for _, p := range f.pins {
			if p.tag != "" {
				keep = append(keep, p.tag)
			}
		}
		rr.prune(ctx, keep)
	}
}

// probePaging asks a registry once per Syncer how it pages tags
// listings (distribution.Repository.ProbePaging: one or two requests for
// the first tags of a repository): a registry that pages with Link, or
// one that ignores last= and so sends whole lists (distribution 2.x),
// needs no last= request after each listing to check that nothing was
// cut. The state keeps what the probe found, so later runs do not ask
// again.
func (r *run) probePaging(ctx context.Context, src source) {
	rr, ok := src.(*remote.Repository)
	if !ok {
		return
	}
	host := rr.Registry()
	r.s.mu.Lock()
	once := r.s.probed[host]
	if once == nil {
		once = &sync.Once{}
		r.s.probed[host] = once
	}
	r.s.mu.Unlock()
	once.Do(func() {
		st := r.s.o.state
		if hs, _ := st.host(host); hs.Probed {
			return // applied when the registry was opened
		}
		dr := rr.Distribution().Registry()
		if err := rr.Distribution().ProbePaging(ctx); err == nil && !r.s.o.dryRun {
			st.editHost(host, func(hs *HostState) {
				hs.Probed, hs.LinkPaging, hs.TagsIgnoreLast = true, dr.LinkPaging(), dr.TagsIgnoreLast()
			})
		}
	})
}

// image runs f within the run's bound on images at once.
func (r *run) image(f func()) {
	select {
	case r.images <- struct{}{}:
	case <-r.ctx.Done():
		return
	}
	defer func() { <-r.images }()
	f()
}

func (r *run) openSource(ctx context.Context, job repoJob) (source, error) {
	if job.src.layout {
		return ocilayout.Open(ctx, filepath.Join(job.src.dir, job.repo))
	}
	reg, err := r.s.registry(ctx, job.src.host)
	if err != nil {
		return nil, err
	}
	repo, err := reg.Repository(ctx, job.repo)
	if err != nil {
		return nil, err
	}
	return repo, nil
}

func (r *run) openTarget(ctx context.Context, job repoJob) (target, error) {
	if job.dst.layout {
		dir := filepath.Join(job.dst.dir, job.target)
		if r.s.o.dryRun {
			l, err := ocilayout.Open(ctx, dir)
			if errors.Is(err, store.ErrNotFound) {
				return nil, nil
			}
			return l, err
		}
		return ocilayout.Create(ctx, dir)
	}
	reg, err := r.s.registry(ctx, job.dst.host)
	if err != nil {
		return nil, err
	}
	repo, err := reg.Repository(ctx, job.target)
	if err != nil {
		return nil, err
	}
	return &onceEmpty{remoteRepository: repo.(*remote.Repository)}, nil
}

// remoteRepository is remote.Repository under a name that does not hide
// its Repository method when embedded: a field named Repository would,
// and the target would then be neither a store.Mounter nor known to the
// blob-location cache.
type remoteRepository = remote.Repository

// onceEmpty is a target repository that answers Empty once for the sync
// and every copy into it (store.EmptyChecker), so the question costs one
// request per repository, not one per copier and one for the sync.
type onceEmpty struct {
	*remoteRepository
	once  sync.Once
	empty bool
	err   error
}

// Empty reports whether the repository had no tags when first asked.
func (o *onceEmpty) Empty(ctx context.Context) (bool, error) {
	o.once.Do(func() { o.empty, o.err = o.remoteRepository.Empty(ctx) })
	return o.empty, o.err
}

// targetEmpty reports, once per repository, whether the target holds
// nothing yet, so its tags need not be asked for one by one.
func (rr *repoRun) targetEmpty(ctx context.Context) bool {
	rr.emptyMu.Do(func() {
		dst, err := rr.target(ctx)
		if err != nil {
			return // the copy will say
		}
		switch d := dst.(type) {
		case nil:
			rr.empty = true
		case store.EmptyChecker:
			e, err := d.Empty(ctx)
			rr.empty = err == nil && e
		}
	})
	return rr.empty
}

// optionsKey identifies the copy options that change what a target tag
// holds.
func optionsKey(platforms []string, referrers bool) string {
	p := slices.Clone(platforms)
	sort.Strings(p)
	k := strings.Join(p, ",")
	if referrers {
		k += "+referrers"
	}
	return k
}

// referrers lists the digests of the source's referrers of d, sorted;
// nil when the source cannot list them.
func (rr *repoRun) referrers(ctx context.Context, d digest.Digest) ([]digest.Digest, error) {
	rl, ok := rr.src.(store.ReferrerLister)
	if !ok {
		return nil, nil
	}
	list, err := rl.Referrers(ctx, d, "")
	if err != nil {
		return nil, err
	}
	out := make([]digest.Digest, 0, len(list))
	for _, desc := range list {
		out = append(out, desc.Digest)
	}
	slices.Sort(out)
	return out, nil
}

func descOf(t SourceTag) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: t.MediaType, Digest: t.Digest, Size: t.Size}
}
