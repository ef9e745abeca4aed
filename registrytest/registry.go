package registrytest

import (
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// Registry is a running in-process registry. Its methods are safe for
// concurrent use.
type Registry struct {
	host, url string
	users     map[string]string
	stop      func()
}

// Option configures Start.
type Option func(*config)

type config struct {
	users map[string]string
}

// WithUser makes the registry demand HTTP Basic credentials, accepting
// name with password (repeatable: each call adds a user).
func WithUser(name, password string) Option {
	return func(c *config) {
		if c.users == nil {
			c.users = map[string]string{}
		}
		c.users[name] = password
	}
}

// Start starts a registry on a free port of 127.0.0.1. Close stops it.
func Start(opts ...Option) (*Registry, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	var topts []testutil.RegistryOption
	if c.users != nil {
		topts = append(topts, testutil.WithHtpasswd(c.users))
	}
	r, stop, err := testutil.StartRegistry(topts...)
	if err != nil {
		return nil, err
	}
	return &Registry{host: r.Host, url: r.URL, users: c.users, stop: stop}, nil
}

// New starts a registry for the test t and stops it when t ends. It fails
// t if the registry cannot start.
func New(t testing.TB, opts ...Option) *Registry {
	t.Helper()
	r, err := Start(opts...)
	if err != nil {
		t.Fatalf("starting a registry: %v", err)
	}
	t.Cleanup(r.Close)
	return r
}

// Host returns host:port as an image reference names the registry, e.g.
// "127.0.0.1:41234". It speaks plain http, which hoist and docker allow for
// loopback hosts.
func (r *Registry) Host() string { return r.host }

// URL returns the registry's base URL, e.g. "http://127.0.0.1:41234".
func (r *Registry) URL() string { return r.url }

// Close stops the registry and discards its content. It is safe to call
// more than once.
func (r *Registry) Close() {
	if r.stop != nil {
		r.stop()
		r.stop = nil
	}
}
