// Package transport is hoist's HTTP layer: one http.RoundTripper that talks
// to any number of registry hosts, each with its own stack built on first
// use from the host's certs.d material (package hosts).
//
// From the caller down, a request to host H passes through:
//
//	headers.go      User-Agent and caller-supplied headers
//	retry.go        retries of idempotent requests on resets, 408, 429, 5xx, honouring Retry-After
//	stall.go        cancels an attempt that makes no progress for the stall timeout
//	scheme.go       plain-http policy; https→http fallback for insecure and loopback hosts, raced on a first request without body or credentials
//	certfallback.go client certificates from certs.d/H tried in order on 403, 5xx or TLS failure
//	log.go          one line per attempt for -v, with credentials redacted
//	net/http        keep-alive connections, HTTP/2 over TLS, proxies from the environment
//
// Authentication is not here: package auth wraps this transport. Redirect
// policy lives in an http.Client's CheckRedirect; NewClient sets it.
//
// Above the RoundTripper, the protocol clients (distribution, legacy) share
// two helpers: Send (send.go) builds and sends one request and keeps the
// URL's secrets out of its errors, and ResumingBody (resume.go) is the body
// of a GET that survives dropped connections by asking for the rest with a
// Range request.
package transport
