package syncer

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hoist-dev/hoist/copy"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/transport"
)

// run is one Run under way.
type run struct {
	s      *Syncer
	ctx    context.Context
	cancel context.CancelFunc
	images chan struct{} // images copied or checked at once
	counts *counter

	mu       sync.Mutex
	res      *Result
	copiers  map[string]*copy.Copier
	catalogs map[string]*catalog
}

type catalog struct {
	once  sync.Once
	names []string
	err   error
}

// repoJob is one source repository and where it goes.
type repoJob struct {
	entry    *Entry
	filter   *filter
	src, dst location
	repo     string // source repository path (a directory under a layout tree)
	target   string // target repository path
}

// Run syncs everything the config lists once: it expands each entry to
// its repositories (listing the source's catalog for Match), lists and
// filters each repository's tags, and copies the images the target
// lacks, many at once, within each host's limits. A failure of one
// repository or tag does not stop the others (unless WithStopOnError):
// the Result lists it, and Result.Err sums them up. The state is saved
// at the end, also when ctx was cancelled part way. Run's own error is
// for what stops the whole run: the state could not be saved, or ctx
// ended.
func (s *Syncer) Run(parent context.Context) (*Result, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	r := &run{s: s, ctx: ctx, cancel: cancel, images: make(chan struct{}, s.cfg.images()), counts: &counter{},
		res: &Result{Started: time.Now(), DryRun: s.o.dryRun, State: s.o.state.Path()}, copiers: map[string]*copy.Copier{}, catalogs: map[string]*catalog{}}
	s.mu.Lock()
	s.counts, s.current = r.counts, r
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.current = nil
		s.mu.Unlock()
	}()

	var jobs []repoJob
	for i := range s.cfg.Sync {
		js, err := r.expand(&s.cfg.Sync[i])
		if err != nil {
			e := &s.cfg.Sync[i]
			r.record(Item{Source: e.Source, Target: e.Target, Action: ActionFail, Reason: "listing the repositories", Error: err.Error()})
			continue
		}
		jobs = append(jobs, js...)
	}
	r.res.Repositories = len(jobs)
	// Repositories are listed well ahead of the images being copied, so
	// a listing never waits for another repository's copies; requests
	// stay within each host's limit, images within Defaults.Images.
	g := errgroup.Group{}
	g.SetLimit(4 * s.cfg.images())
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error { r.syncRepo(j); return nil })
	}
	g.Wait()
	s.keepSchemes()

	res := r.finish()
	var err error
	if !s.o.dryRun {
		err = s.o.state.Save()
	}
	if err == nil && parent.Err() != nil {
		err = parent.Err()
	}
	return res, err
}

// RunEvery runs the sync, then again every d from the start of the last
// run, until ctx ends; each is given to each as it finishes. It returns
// nil when ctx ended (a run under way stops, saving what it did), or the
// error of a run that could not save its state.
func (s *Syncer) RunEvery(ctx context.Context, d time.Duration, each func(*Result, error)) error {
	if d <= 0 {
		return fmt.Errorf("%w: the interval must be positive, not %s", errdef.ErrInvalid, d)
	}
	for {
		start := time.Now()
		res, err := s.Run(ctx)
		if ctx.Err() != nil {
			if each != nil && res != nil {
				each(res, nil)
			}
			return nil
		}
		if each != nil {
			each(res, err)
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		if transport.Sleep(ctx, time.Until(start.Add(d))) != nil {
			return nil
		}
	}
}

// finish fills in the counts and sorts the items.
func (r *run) finish() *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := r.res
	res.Duration = time.Since(res.Started)
	res.Seconds = res.Duration.Seconds()
	for _, it := range res.Items {
		switch it.Action {
		case ActionCopy:
			res.Copied++
			res.Bytes += it.Bytes
		case ActionSkip:
			res.Skipped++
		case ActionDelete:
			res.Deleted++
		case ActionFail:
			res.Failed++
		}
	}
	sort.SliceStable(res.Items, func(i, j int) bool {
		a, b := res.Items[i], res.Items[j]
		if a.Target != b.Target {
			return a.Target < b.Target
		}
		return a.Tag < b.Tag
	})
	res.Requests = r.counts.snapshot()
	if res.Items == nil {
		res.Items = []Item{}
	}
	if res.Waits == nil {
		res.Waits = []Wait{}
	}
	return res
}

// record adds an item and reports it.
func (r *run) record(it Item) {
	r.mu.Lock()
	r.res.Items = append(r.res.Items, it)
	r.mu.Unlock()
	r.s.emit(Event{Kind: EventItem, Item: &it})
	if it.Action == ActionFail && r.s.o.stopOnError {
		r.cancel()
	}
}

// expand lists the repositories of entry e.
func (r *run) expand(e *Entry) ([]repoJob, error) {
	src, _ := parseLocation(e.Source)
	dst, _ := parseLocation(e.Target)
	f, _ := compileFilter(r.s.cfg.tagFilter(e))
	job := func(repo string) repoJob {
		return repoJob{entry: e, filter: f, src: src, dst: dst, repo: repo, target: targetRepo(e, src, dst, repo)}
	}
	if e.single {
		return []repoJob{job(src.path)}, nil
	}
	seen := map[string]bool{}
	var out []repoJob
	for _, name := range e.Repositories {
		full, _ := joinRepo(src, name)
		if src.layout {
			full = strings.Trim(name, "/")
		}
		if !seen[full] {
			seen[full] = true
			out = append(out, job(full))
		}
	}
	if len(e.Match) > 0 {
		names, err := r.catalog(src)
		if err != nil {
			return out, err
		}
		var res []*regexp.Regexp
		for _, m := range e.Match {
			res = append(res, regexp.MustCompile(m)) // Check compiled it
		}
		for _, full := range names {
			if src.path != "" && !strings.HasPrefix(full, src.path+"/") {
				continue
			}
			rel := relName(src, full)
			for _, re := range res {
				if re.MatchString(rel) && !seen[full] {
					seen[full] = true
					out = append(out, job(full))
				}
			}
		}
	}
	return out, nil
}

// catalog lists the repositories of a source, once per run.
func (r *run) catalog(src location) ([]string, error) {
	key := src.host
	if src.layout {
		key = "oci:" + src.dir
	}
	r.mu.Lock()
	c := r.catalogs[key]
	if c == nil {
		c = &catalog{}
		r.catalogs[key] = c
	}
	r.mu.Unlock()
	c.once.Do(func() {
		if src.layout {
			c.names, c.err = layoutRepositories(r.ctx, src.dir)
			return
		}
		reg, err := r.s.registry(r.ctx, src.host)
		if err != nil {
			c.err = err
			return
		}
		c.names, c.err = reg.Repositories(r.ctx, store.Page{})
		if c.err != nil {
			c.err = fmt.Errorf("listing the catalog of %s: %w", src.host, r.s.explain(r.ctx, src.host, c.err))
		}
	})
	return c.names, c.err
}

// copier returns the Copier for images copied with the options of key,
// shared by all of them so their blobs move once.
func (r *run) copier(key string, platforms []string, referrers bool) *copy.Copier {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.copiers[key]; ok {
		return c
	}
	var opts []copy.Option
	if pl, _ := parsePlatforms(platforms); len(pl) > 0 {
		opts = append(opts, copy.WithPlatforms(pl...))
	}
	if referrers {
		opts = append(opts, copy.WithReferrers())
	}
	if r.s.o.cache != nil {
		opts = append(opts, copy.WithBlobCache(r.s.o.cache))
	}
	if r.s.o.concurrency > 0 {
		opts = append(opts, copy.WithConcurrency(r.s.o.concurrency))
	}
	c := copy.New(opts...)
	r.copiers[key] = c
	return c
}
