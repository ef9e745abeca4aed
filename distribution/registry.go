package distribution

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/hoist-dev/hoist/transport"

	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/reference"
)

// Registry is a client for one registry host. It is safe for concurrent
// use, and cheap to keep: it holds no connections of its own (the
// http.Client does).
type Registry struct {
	host string
	base url.URL
	opts options

	// referrersAPI caches whether the registry serves the referrers API:
	// 0 not known yet, 1 yes, 2 no.
	referrersAPI atomic.Int32
	// linkPaging records that the registry paginates lists with Link
	// headers, so a full page without one is the last.
	linkPaging atomic.Bool
	// ignoresLast records, per listing (tagsListing, catalogListing), that
	// the registry answers last= with its list from the start, or sends
	// names out of lexical order: it pages by nothing, so each answer
	// without Link is the whole list.
	ignoresLast [2]atomic.Bool
	// learnedChunk is the upload body size a 413 answer taught (see
	// chunking.go); 0 when none has.
	learnedChunk atomic.Int64
	// referrerEdits queues and merges edits of referrers tags (see
	// referrerqueue.go).
	referrerEdits referrerQueues
}

// NewRegistry returns a client for host, written as in an image reference:
// "registry.example.com", "localhost:5000", "[::1]:5000". It does no I/O;
// use Ping to check that the host speaks the API.
func NewRegistry(host string, opts ...Option) (*Registry, error) {
	if host == "" || strings.ContainsAny(host, "/?#@ \t") {
		return nil, fmt.Errorf("registry host %q: want host[:port] with no scheme or path, e.g. registry.example.com:5000", host)
	}
	if _, err := url.Parse("https://" + host); err != nil {
		return nil, fmt.Errorf("registry host %q: %w", host, err)
	}
	o := defaults()
	for _, f := range opts {
		f(&o)
	}
	r := &Registry{host: host, opts: o}
	r.base = url.URL{Scheme: "https", Host: host}
	if o.plainHTTP {
		r.base.Scheme = "http"
	}
	return r, nil
}

// LinkPaging reports whether the registry has been seen to page a
// listing with a Link header, which makes a page without one the last.
func (r *Registry) LinkPaging() bool { return r.linkPaging.Load() }

// SetLinkPaging tells the client that the registry pages listings with
// Link headers, as a caller may know from an earlier session (a sync's
// state): a page without Link is then the last from the first listing
// on, without the last= check.
func (r *Registry) SetLinkPaging() { r.linkPaging.Store(true) }

// TagsIgnoreLast reports whether the registry has been seen to answer a
// tags listing's last= with the list from its start, or to send tags
// out of lexical order: it pages tags by nothing, so a tags answer
// without Link is the whole list.
func (r *Registry) TagsIgnoreLast() bool { return r.ignoresLast[tagsListing].Load() }

// SetTagsIgnoreLast tells the client that the registry ignores last= in
// tags listings (distribution 2.x does), as a caller may know from an
// earlier session: each tags answer without Link is then taken as the
// whole list, without the one more request (last=) that checks it.
func (r *Registry) SetTagsIgnoreLast() { r.ignoresLast[tagsListing].Store(true) }

// Host returns the host the registry was created for.
func (r *Registry) Host() string { return r.host }

// Repository returns a client for the named repository on this registry,
// e.g. "library/alpine". The name is checked against the distribution
// spec's grammar; no I/O happens. A Repository is safe for concurrent use.
func (r *Registry) Repository(name string) (*Repository, error) {
	if err := ValidateRepositoryName(name); err != nil {
		return nil, err
	}
	return &Repository{reg: r, name: name}, nil
}

// ValidateRepositoryName checks name against the distribution spec's
// repository grammar; it is reference.ValidateRepository, the one place the
// grammar is written down.
func ValidateRepositoryName(name string) error {
	return reference.ValidateRepository(name)
}

// Repository is a client for one repository of a registry. It is safe for
// concurrent use.
type Repository struct {
	reg  *Registry
	name string
}

// Name returns the repository name.
func (r *Repository) Name() string { return r.name }

// Registry returns the registry the repository belongs to.
func (r *Repository) Registry() *Registry { return r.reg }

// PingResult is what GET /v2/ said.
type PingResult struct {
	// Status is the HTTP status of the answer.
	Status int
	// V2 reports that the host speaks the distribution API: it answered
	// 200, or 401 (it wants credentials first).
	V2 bool
	// APIVersion is the Docker-Distribution-API-Version header, usually
	// "registry/2.0"; empty when the registry did not send it.
	APIVersion string
	// Challenges are the WWW-Authenticate headers of a 401, as sent, for
	// the auth layer to act on.
	Challenges []string
}

// Ping asks GET /v2/ whether the host speaks the distribution API and what
// authentication it wants: the one /v2/ ping of hoist, which protocol
// detection (store/remote) and hoist ping (package probe) share. 200 and
// 401 are answers (V2 true), and so is 404 (V2 false: not a v2 registry).
// Any other status is returned as an *errcode.Error, e.g. the 403 page of
// an mTLS proxy that refused the client certificate, together with the
// PingResult of that answer (its status and headers), for a caller that
// reports what answered. A network failure is returned as is, with a nil
// PingResult.
func (r *Registry) Ping(ctx context.Context) (*PingResult, error) {
	u := r.base
	u.Path = "/v2/"
	resp, err := r.do(ctx, http.MethodGet, &u, nil, nil, 0)
	if err != nil {
		return nil, err
	}
	p := &PingResult{
		Status:     resp.StatusCode,
		V2:         resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized,
		APIVersion: resp.Header.Get("Docker-Distribution-API-Version"),
		Challenges: resp.Header.Values("WWW-Authenticate"),
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusUnauthorized, http.StatusNotFound:
		transport.Drain(resp)
		return p, nil
	}
	return p, errcode.FromResponse(resp)
}
