package transport

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/hoist-dev/hoist/errcode"
)

// ErrInsecureRedirect is returned (wrapped) for a redirect from https to http.
var ErrInsecureRedirect = errors.New("refusing a redirect from https to plain http")

// CheckRedirect is hoist's redirect policy for an http.Client:
//   - at most 10 redirects;
//   - never from https to http;
//   - headers carry over, but Authorization and Cookie only when the new
//     URL has the same scheme, host and port as the original request
//     (stricter than net/http, which also trusts subdomains).
//
// Schemes are judged by the URL each hop was actually sent to, which for a
// loopback or insecure registry is the plain http URL the Transport fell
// back to, not the https URL the caller asked for: a plain-http registry
// may redirect to plain http (another port, a storage host); an https one
// may not.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return fmt.Errorf("stopped after 10 redirects, at %s", errcode.RedactURL(req.URL))
	}
	prev := HopURL(req, via, len(via)-1)
	if prev.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("%w: %s redirected to %s", ErrInsecureRedirect, errcode.RedactURL(prev), errcode.RedactURL(req.URL))
	}
	if !SameOrigin(req.URL, HopURL(req, via, 0)) {
		req.Header.Del("Authorization")
		req.Header.Del("Cookie")
		req.Header.Del("Proxy-Authorization")
	}
	return nil
}

// HopURL returns the URL that hop i of a redirect chain (as CheckRedirect
// functions see it: via, then req) was actually sent to. The answer to hop
// i is the Response of hop i+1 (req for the last), and its Request is what
// the Transport sent, after any https→http fallback; when that is not
// known, it is via[i].URL.
func HopURL(req *http.Request, via []*http.Request, i int) *url.URL {
	next := req
	if i+1 < len(via) {
		next = via[i+1]
	}
	if r := next.Response; r != nil && r.Request != nil && r.Request.URL != nil && strings.EqualFold(r.Request.URL.Host, via[i].URL.Host) {
		return r.Request.URL
	}
	return via[i].URL
}

// SameOrigin reports whether a and b have the same scheme, host and port,
// with default ports made explicit.
func SameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}
