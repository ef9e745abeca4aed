package distribution

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/transport"
)

// url returns the registry URL for a path under /v2/NAME/.
func (r *Repository) url(parts ...string) *url.URL {
	u := r.reg.base
	u.Path = "/v2/" + r.name + "/" + strings.Join(parts, "/")
	return &u
}

// do sends one request with the registry's client and returns the
// response whatever its status; see transport.Send for body, size and
// errors.
func (r *Registry) do(ctx context.Context, method string, u *url.URL, hdr http.Header, body io.Reader, size int64) (*http.Response, error) {
	return transport.Send(ctx, r.opts.client, method, u, hdr, body, size)
}

// location resolves a response's Location header against the URL that
// answered, so relative ("/v2/…", "uuid?x") and absolute locations both
// work.
func location(resp *http.Response) (*url.URL, error) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil, fmt.Errorf("%s %s: %d answer has no Location header", resp.Request.Method, errcode.RedactURL(resp.Request.URL), resp.StatusCode)
	}
	u, err := resp.Request.URL.Parse(loc)
	if err != nil {
		return nil, fmt.Errorf("%s %s: bad Location header: %w", resp.Request.Method, errcode.RedactURL(resp.Request.URL), err)
	}
	return u, nil
}

// withQuery returns u with key=value appended to its query, leaving any
// opaque query the registry put there byte for byte as it was.
func withQuery(u *url.URL, key, value string) *url.URL {
	out := *u
	kv := url.QueryEscape(key) + "=" + url.QueryEscape(value)
	if out.RawQuery == "" {
		out.RawQuery = kv
	} else {
		out.RawQuery += "&" + kv
	}
	return &out
}

// nextLink returns the target of a Link header with rel="next", resolved
// against the URL that answered, or nil when there is none.
func nextLink(resp *http.Response) *url.URL {
	for _, v := range resp.Header.Values("Link") {
		for _, link := range strings.Split(v, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(link), ";")
			target = strings.TrimSpace(target)
			if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			next := false
			for _, p := range strings.Split(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(strings.TrimSpace(k), "rel") {
					for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(v), `"`)) {
						if strings.EqualFold(rel, "next") {
							next = true
						}
					}
				}
			}
			if !next {
				continue
			}
			if u, err := resp.Request.URL.Parse(target[1 : len(target)-1]); err == nil {
				return u
			}
		}
	}
	return nil
}

// parseRange reads an upload's Range header, "0-END" (some registries write
// "bytes=0-END"), and returns the offset the next byte goes to. A missing
// header, and distribution's "0-0" for an empty upload, mean 0.
func parseRange(h string) (int64, error) {
	h = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(h), "bytes="))
	if h == "" {
		return 0, nil
	}
	start, end, ok := strings.Cut(h, "-")
	if !ok {
		return 0, fmt.Errorf("upload Range header %q: want 0-END", h)
	}
	s, err1 := strconv.ParseInt(start, 10, 64)
	e, err2 := strconv.ParseInt(end, 10, 64)
	if err1 != nil || err2 != nil || s != 0 || e < 0 {
		return 0, fmt.Errorf("upload Range header %q: want 0-END", h)
	}
	if e == 0 {
		return 0, nil
	}
	return e + 1, nil
}
