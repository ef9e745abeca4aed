package legacy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/transport"
)

// SearchResult is one repository found by a search.
type SearchResult struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	StarCount   int    `json:"star_count"`
	IsOfficial  bool   `json:"is_official"`
	IsTrusted   bool   `json:"is_trusted"`
	// IsAutomated is sent by Docker Hub (and hoist's v1 server), not by
	// the original index.
	IsAutomated bool `json:"is_automated"`
}

// SearchPage is the index's answer to one search request. The original
// index sent only Query, NumResults and Results; Docker Hub also pages.
type SearchPage struct {
	Query      string         `json:"query"`
	NumResults int            `json:"num_results"`
	NumPages   int            `json:"num_pages,omitempty"`
	Page       int            `json:"page,omitempty"`
	PageSize   int            `json:"page_size,omitempty"`
	Results    []SearchResult `json:"results"`
}

// maxSearchPageSize is the largest page Docker Hub serves.
const maxSearchPageSize = 100

// SearchPage asks the index for one page of repositories matching term,
// with GET search?q=TERM&n=SIZE&page=PAGE. page and size are left out
// when 0 (the index's defaults). Basic credentials go along when the
// keychain has some for the index.
func (c *Client) SearchPage(ctx context.Context, term string, page, size int) (*SearchPage, error) {
	q := url.Values{"q": {term}}
	if size > 0 {
		q.Set("n", strconv.Itoa(size))
	}
	if page > 0 {
		q.Set("page", strconv.Itoa(page))
	}
	hdr, err := c.indexHeaders(ctx)
	if err != nil {
		return nil, err
	}
	u := resolve(c.index, "search")
	u.RawQuery = q.Encode()
	resp, err := transport.Send(ctx, c.hc, http.MethodGet, u, hdr, nil, 0)
	if err != nil {
		return nil, fmt.Errorf("search for %q: %w", term, err)
	}
	if err := transport.Expect(resp, http.StatusOK); err != nil {
		return nil, fmt.Errorf("search for %q: %w", term, err)
	}
	b, err := readBody(resp, maxListJSON, "the search answer")
	if err != nil {
		return nil, err
	}
	var sp SearchPage
	if err := json.Unmarshal(b, &sp); err != nil {
		return nil, fmt.Errorf("search for %q: the answer from %s is not a search result: %w", term, errcode.RedactURL(u), err)
	}
	return &sp, nil
}

// Search returns up to limit repositories matching term, asking for as
// many pages (of up to 100) as it takes; limit <= 0 asks for one page of
// the index's default size. The returned page holds the merged results;
// NumResults is the index's count of all matches. An index that ignores
// paging and sends everything at once is cut to limit.
func (c *Client) Search(ctx context.Context, term string, limit int) (*SearchPage, error) {
	if limit <= 0 {
		return c.SearchPage(ctx, term, 0, 0)
	}
	size := min(limit, maxSearchPageSize)
	var out *SearchPage
	for page := 1; ; page++ {
		sp, err := c.SearchPage(ctx, term, page, size)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = sp
		} else {
			if len(sp.Results) > 0 && len(out.Results) > 0 && sp.Results[0] == out.Results[0] {
				break // paging ignored: the same first page again
			}
			out.Results = append(out.Results, sp.Results...)
		}
		if len(out.Results) >= limit || len(sp.Results) < size || (sp.NumPages > 0 && page >= sp.NumPages) {
			break
		}
	}
	if len(out.Results) > limit {
		out.Results = out.Results[:limit]
	}
	out.Page, out.NumPages, out.PageSize = 0, 0, 0
	return out, nil
}
