package transport

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// logger logs each attempt that reaches the network, at debug level.
type logger struct {
	next http.RoundTripper
	log  *slog.Logger
	cert string
}

func (l *logger) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if !l.log.Enabled(ctx, slog.LevelDebug) {
		return l.next.RoundTrip(req)
	}
	start := time.Now()
	attrs := []any{"method", req.Method, "url", redactURL(req.URL), "headers", RedactHeaders(req.Header)}
	if l.cert != "" {
		attrs = append(attrs, "client_cert", l.cert)
	}
	resp, err := l.next.RoundTrip(req)
	attrs = append(attrs, "elapsed", time.Since(start).Round(time.Millisecond))
	if err != nil {
		l.log.DebugContext(ctx, "http error", append(attrs, "error", err)...)
		return nil, err
	}
	l.log.DebugContext(ctx, "http", append(attrs, "status", resp.StatusCode, "response_headers", RedactHeaders(resp.Header))...)
	return resp, nil
}

var secretHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
	"Set-Cookie":          true,
	"X-Docker-Token":      true, // v1 index tokens
	"X-Registry-Auth":     true,
}

// RedactHeaders returns a copy of h fit for logs: credentials are replaced
// by "[redacted]", keeping the scheme word of Authorization ("Bearer
// [redacted]") because it helps debugging and reveals nothing.
func RedactHeaders(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		if !secretHeaders[http.CanonicalHeaderKey(k)] {
			out[k] = vs
			continue
		}
		for _, v := range vs {
			if scheme, _, ok := strings.Cut(v, " "); ok && (k == "Authorization" || k == "Proxy-Authorization") {
				out[k] = append(out[k], scheme+" [redacted]")
			} else {
				out[k] = append(out[k], "[redacted]")
			}
		}
	}
	return out
}

var secretParams = []string{"password", "token", "access_token", "refresh_token", "client_secret", "signature", "x-amz-signature", "sig"}

// redactURL hides user info and query parameters that carry secrets (as
// presigned storage URLs do).
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		c.User = url.User("[redacted]")
	}
	if c.RawQuery != "" {
		q := c.Query()
		changed := false
		for k := range q {
			for _, s := range secretParams {
				if strings.EqualFold(k, s) {
					q.Set(k, "[redacted]")
					changed = true
				}
			}
		}
		if changed {
			c.RawQuery = q.Encode()
		}
	}
	return c.String()
}

// RedactURL returns u as a string with credentials and secret query
// parameters hidden, for error messages and logs.
func RedactURL(u *url.URL) string { return redactURL(u) }
