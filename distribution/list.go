package distribution

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errcode"
)

// ListOptions shapes a tags or catalog listing. The zero value lists
// everything, in pages of the registry's choosing.
type ListOptions struct {
	// PageSize is the n sent with each request; 0 sends none and lets the
	// registry choose.
	PageSize int
	// Limit stops the listing after this many names; 0 means no limit.
	Limit int
	// Last starts the listing after this name (the spec's last parameter).
	Last string
}

// Tags lists the repository's tags in the registry's order (lexical, per
// the spec), following pagination: the Link header's rel="next" when the
// registry sends one, else, when a page came back full, a request for the
// names after its last (until the registry is seen to send Link). It stops at the end or at opts.Limit. Each page is
// read with a 16 MiB cap. A missing repository matches errcode.ErrNotFound.
func (r *Repository) Tags(ctx context.Context, opts ListOptions) ([]string, error) {
	return r.reg.list(ctx, r.url("tags", "list"), "tags", opts)
}

// Catalog lists the registry's repositories (GET /v2/_catalog), paginated
// like Tags. Many public registries refuse it (errcode.ErrUnauthorized or
// ErrDenied, or ErrNotFound).
func (r *Registry) Catalog(ctx context.Context, opts ListOptions) ([]string, error) {
	u := r.base
	u.Path = "/v2/_catalog"
	return r.list(ctx, &u, "repositories", opts)
}

// list walks the pages of a tags or catalog listing; field is the JSON
// member holding the names.
func (r *Registry) list(ctx context.Context, first *url.URL, field string, opts ListOptions) ([]string, error) {
	page := func(last string) *url.URL {
		u := *first
		q := url.Values{}
		if opts.PageSize > 0 {
			q.Set("n", strconv.Itoa(opts.PageSize))
		}
		if last != "" {
			q.Set("last", last)
		}
		u.RawQuery = q.Encode()
		return &u
	}
	var out []string
	seen := map[string]bool{}
	for u := page(opts.Last); u != nil; {
		if seen[u.String()] {
			return nil, fmt.Errorf("listing %s: the registry's pagination loops back to %s", first.Path, errcode.RedactURL(u))
		}
		seen[u.String()] = true
		resp, err := r.do(ctx, http.MethodGet, u, http.Header{"Accept": {"application/json"}}, nil, 0)
		if err != nil {
			return nil, err
		}
		if err := expect(resp, http.StatusOK); err != nil {
			return nil, err
		}
		raw, err := content.ReadCapped(resp.Body, maxListBody, "a page of "+first.Path)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		var body map[string]json.RawMessage
		var names []string
		if err := json.Unmarshal(raw, &body); err != nil {
			return nil, fmt.Errorf("listing %s: the registry answered something other than JSON: %w", first.Path, err)
		}
		if v, ok := body[field]; ok && string(v) != "null" {
			if err := json.Unmarshal(v, &names); err != nil {
				return nil, fmt.Errorf("listing %s: %q is not a list of names: %w", first.Path, field, err)
			}
		}
		out = append(out, names...)
		if opts.Limit > 0 && len(out) >= opts.Limit {
			return out[:opts.Limit], nil
		}
		next := nextLink(resp)
		if next != nil {
			r.linkPaging.Store(true)
		}
		switch {
		case len(names) == 0:
			u = nil
		case next != nil:
			u = next
		case opts.PageSize > 0 && len(names) >= opts.PageSize && !r.linkPaging.Load():
			// Registries from before Link was specified page only by last;
			// one that has sent Link before means "no more" by leaving it out.
			u = page(names[len(names)-1])
		default:
			u = nil
		}
	}
	return out, nil
}
