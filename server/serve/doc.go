// Package serve is `hoist serve`: one HTTP server that composes hoist's
// registry storage (server/storage over a storage driver), the OCI
// Distribution API (server/registry), optionally the legacy v1 API on the
// same store, and what an operator needs around them: TLS, client
// certificates (required and verified, or requested and checked by
// common name as the original Docker client's test set-up did), htpasswd
// Basic auth, read-only mode, limits, an access log, /healthz, Prometheus
// metrics at /metrics, and graceful shutdown.
//
// Files, one concern each:
//
//	serve.go      Server, New, Serve: listener, http.Server, shutdown
//	options.go    Option and the defaults
//	tls.go        server certificate and client-certificate policies
//	auth.go       htpasswd (bcrypt) Basic authentication
//	limits.go     per-request stall deadlines
//	observe.go    access log and metrics
package serve
