package transport

import "net/http"

// headerSetter adds the User-Agent and the caller's extra headers to
// requests that do not set them already.
type headerSetter struct {
	ua    string
	extra http.Header
	next  http.RoundTripper
}

func (h *headerSetter) RoundTrip(req *http.Request) (*http.Response, error) {
	missing := req.Header.Get("User-Agent") == "" && h.ua != ""
	for k := range h.extra {
		if _, ok := req.Header[k]; !ok {
			missing = true
		}
	}
	if !missing {
		return h.next.RoundTrip(req)
	}
	r := req.Clone(req.Context()) // a RoundTripper must not modify the caller's request
	if r.Header.Get("User-Agent") == "" && h.ua != "" {
		r.Header.Set("User-Agent", h.ua)
	}
	for k, v := range h.extra {
		if _, ok := r.Header[k]; !ok {
			r.Header[k] = append([]string(nil), v...)
		}
	}
	return h.next.RoundTrip(r)
}
