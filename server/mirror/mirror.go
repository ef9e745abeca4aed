package mirror

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/hoist-dev/hoist/server/storage"
	"github.com/hoist-dev/hoist/store"
)

// Namespace is a pull-through mirror of an upstream registry over hoist's
// registry storage. It implements store.Namespace and is safe for
// concurrent use.
type Namespace struct {
	local  *storage.Namespace
	up     Upstream
	cfg    config
	flight singleflight.Group // one upstream fetch per digest at a time
}

var _ store.Namespace = (*Namespace)(nil)

// Upstream opens a repository of the registry mirrored, by name. The
// reader it returns serves Resolve and Fetch; the mirror also uses, when
// it implements them, store.Statter (HEAD of a blob not stored yet),
// store.TagLister and store.ReferrerLister.
type Upstream func(ctx context.Context, repository string) (store.Reader, error)

// FromNamespace is the Upstream of the repositories of ns.
func FromNamespace(ns store.Namespace) Upstream {
	return func(ctx context.Context, name string) (store.Reader, error) { return ns.Repository(ctx, name) }
}

// Option configures a Namespace; pass options to New.
type Option func(*config)

type config struct {
	ttl    time.Duration
	name   string
	logger *slog.Logger
	now    func() time.Time
}

// DefaultTTL is how long a tag is served before it is checked upstream
// again, unless WithTTL says otherwise.
const DefaultTTL = 5 * time.Minute

// WithTTL sets how long a stored tag is served before the upstream is
// asked again what it names. 0 asks upstream on every pull by tag.
func WithTTL(d time.Duration) Option { return func(c *config) { c.ttl = d } }

// WithUpstreamName names the upstream in errors and logs ("registry-1.docker.io").
// The default is "the upstream".
func WithUpstreamName(name string) Option { return func(c *config) { c.name = name } }

// WithLogger logs upstream failures served around (a stale tag served
// because the upstream did not answer). The default discards them.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithClock replaces time.Now for tag revalidation, so tests can move
// time.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// New returns a mirror of upstream kept in local. local must accept
// manifests whose blobs it does not hold yet (storage.WithAllowMissing):
// a manifest is stored when it is pulled, its blobs when they are.
func New(local *storage.Namespace, upstream Upstream, opts ...Option) (*Namespace, error) {
	if local == nil || upstream == nil {
		return nil, errors.New("mirror: the local storage and the upstream must not be nil")
	}
	cfg := config{ttl: DefaultTTL, name: "the upstream", logger: slog.New(slog.DiscardHandler), now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case cfg.ttl < 0:
		return nil, fmt.Errorf("mirror: TTL %s must not be negative", cfg.ttl)
	case cfg.logger == nil, cfg.now == nil:
		return nil, errors.New("mirror: the logger and the clock must not be nil")
	}
	return &Namespace{local: local, up: upstream, cfg: cfg}, nil
}

// Repositories lists the repositories the mirror holds (not the
// upstream's catalog), paged.
func (m *Namespace) Repositories(ctx context.Context, p store.Page) ([]string, error) {
	return m.local.Repositories(ctx, p)
}

// Repository opens repository name, mirrored from the upstream's
// repository of the same name.
func (m *Namespace) Repository(ctx context.Context, name string) (store.Repository, error) {
	lr, err := m.local.Repository(ctx, name)
	if err != nil {
		return nil, err
	}
	return &Repository{m: m, local: lr.(*storage.Repository), name: name}, nil
}

// upstream opens the upstream's repository.
func (r *Repository) upstream(ctx context.Context) (store.Reader, error) {
	u, err := r.m.up(ctx, r.name)
	if err != nil {
		return nil, r.m.upstreamErr(err, "opening "+r.name)
	}
	return u, nil
}

// upstreamErr wraps an upstream failure for the client: a not-found stays
// one (404), anything else is the upstream's fault (errdef.ErrServer: 502).
func (m *Namespace) upstreamErr(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return err
	}
	return &UpstreamError{Upstream: m.cfg.name, What: what, Err: err}
}
