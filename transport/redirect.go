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
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return fmt.Errorf("stopped after 10 redirects, at %s", errcode.RedactURL(req.URL))
	}
	prev := via[len(via)-1]
	if prev.URL.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("%w: %s redirected to %s", ErrInsecureRedirect, errcode.RedactURL(prev.URL), errcode.RedactURL(req.URL))
	}
	if !SameOrigin(req.URL, via[0].URL) {
		req.Header.Del("Authorization")
		req.Header.Del("Cookie")
		req.Header.Del("Proxy-Authorization")
	}
	return nil
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
