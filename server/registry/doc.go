// Package registry serves the OCI Distribution API (v2) over any
// store.Namespace: hoist's own storage (package server/storage), and
// later anything else that implements the contract, such as a
// pull-through mirror.
//
// [Handler] answers every path under /v2/: the base check, blobs (GET,
// HEAD with Range, DELETE), uploads (monolithic, chunked, streamed and
// resumable, with status GET, cross-repository and automatic mounts),
// manifests (GET, HEAD, PUT by tag or digest with ?tag=, DELETE), tags and
// catalog listings with n/last paging, and referrers with artifactType
// filtering. Errors are OCI error JSON with the spec's status codes.
//
// The handler keeps no state between requests: an upload's bytes and
// hash state are the store's, so any handler over the same storage
// continues it. Access control, TLS, limits on the whole server and
// logging are the business of the server that mounts it (package
// server/serve).
package registry
