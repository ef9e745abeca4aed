package transport

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hoist-dev/hoist/errcode"
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
	attrs := []any{"method", req.Method, "url", errcode.RedactURL(req.URL), "headers", RedactHeaders(req.Header)}
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

// secretHeaders carry credentials in requests or responses.
var secretHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
	"Set-Cookie":          true,
	"X-Docker-Token":      true, // v1 index tokens
	"X-Registry-Auth":     true,
}

// RedactHeaders returns a copy of h fit for logs. The values of
// Authorization, Proxy-Authorization, X-Registry-Auth, X-Docker-Token and
// cookie headers are replaced by "[redacted]"; an Authorization value keeps
// its scheme ("Bearer [redacted]"), which helps debugging and reveals
// nothing. h is not modified, and the copy shares no slice with it.
func RedactHeaders(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		ck := http.CanonicalHeaderKey(k)
		if !secretHeaders[ck] {
			out[k] = append([]string(nil), vs...)
			continue
		}
		for _, v := range vs {
			scheme, _, hasScheme := strings.Cut(strings.TrimSpace(v), " ")
			if hasScheme && strings.HasSuffix(ck, "Authorization") {
				out[k] = append(out[k], scheme+" [redacted]")
			} else {
				out[k] = append(out[k], "[redacted]")
			}
		}
	}
	return out
}
