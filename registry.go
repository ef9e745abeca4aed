package hoist

import (
	"context"
	"fmt"
	"strings"

	"github.com/hoist-dev/hoist/legacy"
	"github.com/hoist-dev/hoist/probe"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/remote"
)

// Catalog lists the repositories of the v2 registry host (host or
// host:port) with the catalog API, following its pagination to the end or
// to WithLimit. Many public registries refuse the catalog; the error then
// says what they answered.
func (s *Session) Catalog(ctx context.Context, host string, opts ...Option) ([]string, error) {
	o, err := s.call(opts)
	if err != nil {
		return nil, err
	}
	host = strings.TrimSuffix(host, "/")
	if host == "" || strings.Contains(host, "/") {
		return nil, notAHost(host)
	}
	if err := s.requireV2(ctx, host, "catalog"); err != nil {
		return nil, err
	}
	ns, err := s.Registry(host)
	if err != nil {
		return nil, err
	}
	repos, err := ns.Repositories(ctx, store.Page{N: o.limit})
	if err != nil {
		return nil, err
	}
	if repos == nil {
		repos = []string{}
	}
	return repos, nil
}

// Registry returns the v2 registry host (host or host:port, as an image
// reference names it) as a store.Namespace: its catalog, and each of its
// repositories as a whole store.Repository, reached with the session's
// client for the host (its certs.d settings, credentials and tokens). It
// asks the registry nothing until it is used; a registry that speaks only
// v1 fails then. A host that is not one is an error matching
// store.ErrInvalidLocation.
func (s *Session) Registry(host string) (*remote.Registry, error) {
	if host == "" || strings.ContainsAny(host, "/ ") {
		return nil, notAHost(host)
	}
	return remote.NewRegistry(host, s.RegistryClient(reference.APIHost(host)))
}

// Search asks a v1 index (Docker Hub's, or WithIndex) for repositories
// matching term, at most WithLimit of them (0: the index's first page).
func (s *Session) Search(ctx context.Context, term string, opts ...Option) (*legacy.SearchPage, error) {
	o, err := s.call(opts)
	if err != nil {
		return nil, err
	}
	if o.limit < 0 {
		return nil, optionErrorf("WithLimit", "%d: the limit must be positive", o.limit)
	}
	index := o.index
	if index == "" {
		index = legacy.DockerHubIndex
	}
	c, err := legacy.NewClient(index, s.LegacyOptions()...)
	if err != nil {
		return nil, &OptionError{Option: "WithIndex", Err: err}
	}
	page, err := c.Search(ctx, term, o.limit)
	if err != nil {
		return nil, err
	}
	if page.Results == nil {
		page.Results = []legacy.SearchResult{}
	}
	return page, nil
}

// Ping checks the registry host (host or host:port) at /v2/ and then
// /v1/_ping, and reports the protocols it speaks, the scheme, TLS and
// client-certificate facts and its authentication challenge. It fails when
// the host speaks neither protocol; the report then says what answered,
// and has no Scheme when nothing did.
func (s *Session) Ping(ctx context.Context, host string) (*probe.Report, error) {
	host = strings.TrimSuffix(host, "/")
	if host == "" || strings.Contains(host, "/") {
		return nil, notAHost(host)
	}
	return probe.Host(ctx, s.HTTPClient(), host)
}

// notAHost is the error for a registry host argument that is not one.
func notAHost(s string) error {
	return store.InvalidLocation(fmt.Errorf("%q is not a registry host: name one as host or host:port, such as localhost:5000", s))
}
