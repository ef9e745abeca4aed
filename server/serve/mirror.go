package serve

import (
	"log/slog"
	"time"

	"github.com/hoist-dev/hoist/server/mirror"
	"github.com/hoist-dev/hoist/server/storage"
)

// mirrorConfig is what WithMirror set.
type mirrorConfig struct {
	upstream mirror.Upstream
	name     string
	ttl      time.Duration
}

// WithMirror makes the server a pull-through mirror of upstream (the
// repositories of a registry opened through hoist's client stack, named
// name in errors; mirror.FromNamespace makes one of a store.Namespace):
// pulls are served from storage and what it lacks is fetched upstream,
// verified, and stored; tags are checked upstream again once older than
// ttl; pushes are refused. See package server/mirror.
func WithMirror(upstream mirror.Upstream, name string, ttl time.Duration) Option {
	return func(c *config) { c.mirror = &mirrorConfig{upstream: upstream, name: name, ttl: ttl} }
}

func (mc *mirrorConfig) namespace(local *storage.Namespace, logger *slog.Logger) (*mirror.Namespace, error) {
	return mirror.New(local, mc.upstream, mirror.WithTTL(mc.ttl), mirror.WithUpstreamName(mc.name), mirror.WithLogger(logger))
}
