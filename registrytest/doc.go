// Package registrytest runs an OCI Distribution registry in-process on
// 127.0.0.1, for the tests and runnable examples of programs that talk to
// registries, as net/http/httptest does for HTTP servers. A registry keeps
// its content in memory, allows deletion, optionally asks for HTTP Basic
// credentials (WithUser), and is gone once closed.
//
// What serves the registry is not part of the API: today it is the
// reference implementation (distribution v3), later hoist's own server.
// Tests should rely only on the Distribution API it answers.
package registrytest
