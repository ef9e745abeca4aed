package syncer

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/hoist-dev/hoist/copy"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store/remote"
)

// Syncer mirrors what a Config lists. It keeps one limiter per registry
// host for its whole life, so the runs of a long-lived Syncer (RunEvery)
// remember the quota a registry reported. It is safe for concurrent use,
// but runs are meant to follow one another.
type Syncer struct {
	env remote.Env
	cfg *Config
	o   options

	mu       sync.Mutex
	limiters map[string]*limiter
	regs     map[string]*remote.Registry
	probed   map[string]*sync.Once // probePaging, by host
	counts   *counter              // of the run under way
	current  *run
}

// Option configures New.
type Option func(*options)

type options struct {
	state       *State
	fast        bool
	prune       bool
	dryRun      bool
	stopOnError bool
	progress    func(Event)
	cache       *copy.BlobCache
	concurrency int
}

// WithState keeps what the runs learn in st (see OpenState): a run whose
// sources have not moved then lists each repository's tags, resolves
// each tag with one HEAD, and asks the target nothing. Without it, a
// state in memory serves the Syncer's own runs only.
func WithState(st *State) Option { return func(o *options) { o.state = st } }

// WithFast trusts the state for every listed tag it knows: no HEAD is
// sent for them, so a source tag moved to another image since the state
// saw it is not noticed until a run without WithFast.
func WithFast() Option { return func(o *options) { o.fast = true } }

// WithPrune deletes target tags that the sync set no longer selects (gone
// from the source, or no longer among the latest N): only tags this sync
// wrote (the state says) or that the entry's filters select, in the
// entry's target repositories; never anything else.
func WithPrune() Option { return func(o *options) { o.prune = true } }

// WithDryRun makes Run plan only: it lists and resolves as a real run
// does and reports what it would copy, skip and delete, and writes
// nothing, the state included.
func WithDryRun() Option { return func(o *options) { o.dryRun = true } }

// WithStopOnError stops a run at its first failure. By default a run
// keeps going, and its Result lists every failure.
func WithStopOnError() Option { return func(o *options) { o.stopOnError = true } }

// WithProgress has f told of each image done, each repository that could
// not be listed and each rate-limit pause, from many goroutines at once:
// f must be fast and safe for concurrent use.
func WithProgress(f func(Event)) Option { return func(o *options) { o.progress = f } }

// WithBlobCache has the copies remember where blobs were seen, and mount
// them from there (see copy.WithBlobCache).
func WithBlobCache(c *copy.BlobCache) Option { return func(o *options) { o.cache = c } }

// WithConcurrency bounds the large blobs each copy moves at once
// (copy.WithConcurrency).
func WithConcurrency(n int) Option { return func(o *options) { o.concurrency = n } }

// EventKind says what an Event reports.
type EventKind int

// The kinds of Event.
const (
	// EventItem: an image was copied, skipped, deleted or failed (Item).
	EventItem EventKind = iota + 1
	// EventWait: a pause for a host's rate limit begins (Wait).
	EventWait
)

// Event is one piece of progress.
type Event struct {
	Kind EventKind
	Item *Item
	Wait *Wait
}

// New returns a Syncer for cfg (checked: see Config.Check), reaching
// registries through env (a hoist.Session): their clients, credentials
// and protocols.
func New(env remote.Env, cfg *Config, opts ...Option) (*Syncer, error) {
	if err := cfg.Check(); err != nil {
		return nil, fmt.Errorf("%w: %w", errdef.ErrInvalid, err)
	}
	s := &Syncer{env: env, cfg: cfg, limiters: map[string]*limiter{}, regs: map[string]*remote.Registry{}, probed: map[string]*sync.Once{}}
	for _, f := range opts {
		f(&s.o)
	}
	if s.o.state == nil {
		s.o.state, _ = OpenState("")
	}
	return s, nil
}

// State returns the state the Syncer keeps.
func (s *Syncer) State() *State { return s.o.state }

// registry opens host as a v2 registry whose requests go through the
// host's limiter.
func (s *Syncer) registry(ctx context.Context, host string) (*remote.Registry, error) {
	s.mu.Lock()
	if r, ok := s.regs[host]; ok {
		s.mu.Unlock()
		return r, nil
	}
	// No protocol detection up front: it would cost every host a ping
	// before the first listing, which answers the same questions (scheme,
	// auth). A listing that fails asks (see explain).
	defer s.mu.Unlock()
	base := s.env.RegistryClient(reference.APIHost(host))
	lim := s.limiters[host]
	if lim == nil {
		lim = newLimiter(host, s.cfg.limits(host), base.Transport, s.notifyWait, &counterRef{s})
		s.limiters[host] = lim
	}
	c := *base
	c.Transport = lim
	r, err := remote.NewRegistry(host, &c)
	if err != nil {
		return nil, err
	}
	if hs, ok := s.o.state.host(host); ok {
		if se, ok := s.env.(schemeEnv); ok && hs.PlainHTTP {
			se.AssumePlainHTTP(reference.APIHost(host))
		}
		// Before the catalog is listed, which may come first.
		if hs.LinkPaging {
			r.Distribution().SetLinkPaging()
		}
		if hs.TagsIgnoreLast {
			r.Distribution().SetTagsIgnoreLast()
		}
	}
	s.regs[host] = r
	return r, nil
}

// schemeEnv is an Env whose transport tells which scheme each host
// answered on and can be told it (package hoist's Session): the state
// keeps it, so that a later run sends a plain-http host no https attempt.
type schemeEnv interface {
	Scheme(host string) string
	AssumePlainHTTP(host string)
}

// keepSchemes records in the state which source and target hosts of the
// run answered over plain http.
func (s *Syncer) keepSchemes() {
	se, ok := s.env.(schemeEnv)
	if !ok || s.o.dryRun {
		return
	}
	s.mu.Lock()
	hosts := slices.Collect(maps.Keys(s.regs))
	s.mu.Unlock()
	for _, h := range hosts {
		switch se.Scheme(reference.APIHost(h)) {
		case "http":
			s.o.state.editHost(h, func(hs *HostState) { hs.PlainHTTP = true })
		case "https":
			s.o.state.editHost(h, func(hs *HostState) { hs.PlainHTTP = false })
		}
	}
}

// explain returns err, a listing's failure on host, or, when host turns
// out to speak only the legacy v1 protocol, an error that says so: asked
// only after a failure, so hosts that answer cost no ping.
func (s *Syncer) explain(ctx context.Context, host string, err error) error {
	if ctx.Err() != nil {
		return err
	}
	if p, perr := s.env.Protocol(ctx, host); perr == nil && p == remote.V1 {
		return fmt.Errorf("%s speaks only the legacy v1 protocol; hoist sync mirrors v2 registries (hoist copy migrates v1 images one by one): %w", host, errdef.ErrUnsupported)
	}
	return err
}

func (s *Syncer) notifyWait(w Wait) {
	s.mu.Lock()
	r := s.current
	s.mu.Unlock()
	if r != nil {
		r.mu.Lock()
		r.res.Waits = append(r.res.Waits, w)
		r.mu.Unlock()
	}
	s.emit(Event{Kind: EventWait, Wait: &w})
}

func (s *Syncer) emit(e Event) {
	if s.o.progress != nil {
		s.o.progress(e)
	}
}

// counterRef counts into the counter of the run under way.
type counterRef struct{ s *Syncer }

func (c *counterRef) add(host, kind string) {
	c.s.mu.Lock()
	n := c.s.counts
	c.s.mu.Unlock()
	if n != nil {
		n.add(host, kind)
	}
}

// Action is what a sync does with one image or tag.
type Action string

// The actions of an Item.
const (
	ActionCopy   Action = "copy"
	ActionSkip   Action = "skip"
	ActionDelete Action = "delete"
	ActionFail   Action = "fail"
)

// Item is one thing a run did or, with WithDryRun, would do.
type Item struct {
	// Source is the source repository, "host/path" or "oci:DIR/path".
	Source string `json:"source"`
	// Target is the target repository.
	Target string `json:"target"`
	// Tag is the tag ("" for a repository-wide failure, or an image
	// pinned by digest alone).
	Tag string `json:"tag,omitempty"`
	// Digest is the source manifest (for a delete, the target's).
	Digest digest.Digest `json:"digest,omitempty"`
	// Action is what was done.
	Action Action `json:"action"`
	// Reason says why: "new", "changed", "unchanged", "in the target",
	// "gone from the source", or what failed.
	Reason string `json:"reason,omitempty"`
	// Error is the failure, for ActionFail.
	Error string `json:"error,omitempty"`
	// Blobs, Copied and Mounted count the copy's blobs; Bytes is what it
	// transferred.
	Blobs   int   `json:"blobs,omitempty"`
	Copied  int   `json:"copied,omitempty"`
	Mounted int   `json:"mounted,omitempty"`
	Bytes   int64 `json:"bytes,omitempty"`
}

// Result is what one run did.
type Result struct {
	// Started is when the run began; Duration how long it took.
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"-"`
	Seconds  float64       `json:"seconds"`
	// DryRun is true for a plan (WithDryRun): nothing was written.
	DryRun bool `json:"dryRun"`
	// Repositories counts the source repositories synced.
	Repositories int `json:"repositories"`
	// Copied, Skipped, Deleted and Failed count the Items by action.
	Copied  int `json:"copied"`
	Skipped int `json:"skipped"`
	Deleted int `json:"deleted"`
	Failed  int `json:"failed"`
	// Bytes is what the copies transferred.
	Bytes int64 `json:"bytes"`
	// Items lists every image, tag and failure, sorted by target and tag.
	Items []Item `json:"items"`
	// Requests counts the requests sent to each registry host.
	Requests []HostRequests `json:"requests"`
	// Waits lists the rate-limit pauses.
	Waits []Wait `json:"waits"`
	// State is the state file ("" for none).
	State string `json:"state,omitempty"`
}

// Failures returns the items that failed.
func (r *Result) Failures() []Item {
	var out []Item
	for _, it := range r.Items {
		if it.Action == ActionFail {
			out = append(out, it)
		}
	}
	return out
}

// Err returns an error summing up the failures, or nil.
func (r *Result) Err() error {
	if r.Failed == 0 {
		return nil
	}
	f := r.Failures()
	return fmt.Errorf("%d of %d items failed; the first: %s %s: %s", r.Failed, len(r.Items), f[0].Target, f[0].Tag, f[0].Error)
}

var _ http.RoundTripper = (*limiter)(nil)
