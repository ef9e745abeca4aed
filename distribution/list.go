package distribution

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/transport"
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
	// From a registry that ignores last= and sends its sorted list from
	// the start (distribution 2.x), the names up to Last are dropped here.
	Last string

	// probe stops the listing after the page that shows how the registry
	// pages (see ProbePaging).
	probe bool
}

// The listings a registry serves; list's field names follow them.
const (
	tagsListing = iota
	catalogListing
)

var listingFields = [...]string{tagsListing: "tags", catalogListing: "repositories"}

// Tags lists the repository's tags in the registry's order (lexical, per
// the spec), following pagination:
//
//   - the Link header's rel="next", when the registry sends one; a Link to
//     another host is an error and is never followed;
//   - without Link, a non-empty page is followed by one more request for
//     the names after its last (last=), since some registries cut a list
//     at a page size of their own and say nothing; the listing goes on
//     while such requests bring new names. A registry seen sending Link
//     is trusted to mean "no more" by leaving it out (see also
//     SetLinkPaging), and so is one that answers last= with its list
//     from the start, or sends names out of lexical order (see
//     SetTagsIgnoreLast): it does not page at all.
//
// It stops at the end, at opts.Limit, or with an error after
// MaxListEntries names, MaxListBytes bytes of names or MaxListPages pages
// (a pagination that never ends). Each page is read with a 16 MiB cap. A missing repository matches
// errcode.ErrNotFound.
func (r *Repository) Tags(ctx context.Context, opts ListOptions) ([]string, error) {
	return r.reg.list(ctx, r.url("tags", "list"), tagsListing, opts)
}

// ProbePaging learns how the registry pages tags listings, with one or
// two requests for this repository's first tags: a Link in the answer to
// n=1 shows paging by Link (LinkPaging), and names out of lexical order,
// or an answer to last= that starts again from the first tag, show a
// registry that does not page tags at all (TagsIgnoreLast). Later listings then need no request to
// check that a page without Link is the last. An empty repository shows
// nothing; errors are those of Tags.
func (r *Repository) ProbePaging(ctx context.Context) error {
	_, err := r.reg.list(ctx, r.url("tags", "list"), tagsListing, ListOptions{PageSize: 1, probe: true})
	return err
}

// Catalog lists the registry's repositories (GET /v2/_catalog), paginated
// like Tags. Many public registries refuse it (errcode.ErrUnauthorized or
// ErrDenied, or ErrNotFound).
func (r *Registry) Catalog(ctx context.Context, opts ListOptions) ([]string, error) {
	u := r.base
	u.Path = "/v2/_catalog"
	return r.list(ctx, &u, catalogListing, opts)
}

// Bounds of one tags or catalog listing without ListOptions.Limit.
const (
	// MaxListEntries is the most names one listing collects.
	MaxListEntries = 1 << 20
	// MaxListBytes bounds the memory one listing holds: each name counts
	// its length plus nameOverhead bytes of bookkeeping (some 300,000 short
	// names, or 100,000 of 128 characters); held, they peak near 65 MiB.
	MaxListBytes = 16 << 20
	// MaxListPages is the most pages one listing asks for.
	MaxListPages = 10_000
)

// nameOverhead is what holding one name costs besides its bytes: its
// slice entry, its dedupe map entry, allocation rounding.
const nameOverhead = 48

// takeFirst is the hint of a listing that went past a cap.
func takeFirst(err error) error {
	return &transport.OptionHint{Err: err, Action: "take only the first names", Option: "distribution.ListOptions.Limit"}
}

// list walks the pages of a tags or catalog listing (tagsListing,
// catalogListing).
func (r *Registry) list(ctx context.Context, first *url.URL, listing int, opts ListOptions) ([]string, error) {
	field := listingFields[listing]
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
	var size int
	have := map[string]bool{}
	seen := map[string]bool{}
	for n, u := 0, page(opts.Last); u != nil; n++ {
		if n >= MaxListPages {
			return nil, takeFirst(fmt.Errorf("listing %s: the registry's pagination goes on past %d pages (%d names so far)", first.Path, MaxListPages, len(out)))
		}
		if seen[u.String()] {
			return nil, fmt.Errorf("listing %s: the registry's pagination loops back to %s", first.Path, errcode.RedactURL(u))
		}
		seen[u.String()] = true
		names, next, err := r.listPage(ctx, u, first.Path, field)
		if err != nil {
			return nil, err
		}
		if last := u.Query().Get("last"); last != "" && len(names) > 0 && names[0] <= last && slices.IsSorted(names) {
			// Asked for the names after last, the registry sent its list
			// from the start again: it ignores last=, and only the names
			// after last are the answer.
			r.ignoresLast[listing].Store(true)
			i, found := slices.BinarySearch(names, last)
			if found {
				i++
			}
			names = names[i:]
		}
		added := 0
		for _, name := range names {
			if !have[name] {
				have[name] = true
				out = append(out, name)
				size += len(name) + nameOverhead
				added++
			}
		}
		if next != nil {
			r.linkPaging.Store(true)
		}
		if opts.Limit > 0 && len(out) >= opts.Limit {
			return out[:opts.Limit], nil
		}
		if opts.probe && (n > 0 || next != nil || len(names) == 0) {
			return out, nil
		}
		if len(out) > MaxListEntries || size > MaxListBytes {
			return nil, takeFirst(fmt.Errorf("listing %s: the registry lists more names than hoist holds in memory (%d names in %d pages so far, the most is %d names or %d MiB)",
				first.Path, len(out), n+1, MaxListEntries, MaxListBytes>>20))
		}
		switch {
		case added == 0:
			// An empty page ends it, and so does one with nothing new: a
			// registry that ignores last= sends the same names again.
			u = nil
		case next != nil:
			u = next
		case !slices.IsSorted(names):
			// Paging by last= needs names in lexical order; a registry
			// that sends them in another (distribution 2.x, in its
			// storage's) pages by nothing and has sent them all, here
			// and in its later listings, sorted by chance or not.
			r.ignoresLast[listing].Store(true)
			u = nil
		case !r.linkPaging.Load() && !r.ignoresLast[listing].Load():
			// Registries from before Link was specified page only by last,
			// and some cut at a size of their own without saying so.
			u = page(names[len(names)-1])
		default:
			u = nil
		}
	}
	return out, nil
}

// listPage fetches one page: its names and the Link to the next, if any.
func (r *Registry) listPage(ctx context.Context, u *url.URL, what, field string) ([]string, *url.URL, error) {
	resp, err := r.do(ctx, http.MethodGet, u, http.Header{"Accept": {"application/json"}}, nil, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := transport.Expect(resp, http.StatusOK); err != nil {
		return nil, nil, err
	}
	raw, err := content.ReadCapped(resp.Body, maxListBody, "a page of "+what)
	resp.Body.Close()
	if err != nil {
		return nil, nil, err
	}
	var body map[string]json.RawMessage
	var names []string
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, nil, fmt.Errorf("listing %s: the registry answered something other than JSON: %w", what, err)
	}
	if v, ok := body[field]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &names); err != nil {
			return nil, nil, fmt.Errorf("listing %s: %q is not a list of names: %w", what, field, err)
		}
	}
	next := nextLink(resp)
	if next != nil && !sameHost(next, resp.Request.URL) {
		return nil, nil, fmt.Errorf("listing %s: the registry's next page is on another host (%s); hoist follows pagination only on the registry itself", what, errcode.RedactURL(next))
	}
	return names, next, nil
}

// sameHost reports whether a and b name the same host and port, with
// default ports made explicit; the scheme is left to the transport's
// policy (a Link written https:// by a registry reached over http).
func sameHost(a, b *url.URL) bool {
	if strings.EqualFold(a.Host, b.Host) {
		return true
	}
	return strings.EqualFold(a.Hostname(), b.Hostname()) && portOf(a) == portOf(b)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "http") {
		return "80"
	}
	return "443"
}
