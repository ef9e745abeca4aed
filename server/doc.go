// Package server holds the v1 registry behind `hoist serve --v1`: an
// http.Handler for local use and as the in-process test peer of hoist's v1
// client. (The v2 registry is server/registry over server/storage.)
//
// [V1] speaks the legacy Docker Registry v1 API under /v1/, in both roles:
// the index (accounts, search, repository image lists, tokens) and the
// registry (image JSON, layers, ancestry, tags). No other v1 server exists
// any more, so V1 is the peer that hoist's v1 client is tested against; it
// follows the protocol as the original client spoke it (see
// docs/v1-protocol.md).
//
// V1 keeps its state through a distribution storage driver, under
// /hoist/v1: a directory of its own with NewV1, or with NewV1OnDriver the
// driver hoist serve's v2 storage uses, so that one store serves both
// protocols (WithV1Tags, WithV1Blobs; hoist serve's bridge converts
// between v1 chains and OCI images). Small files are written whole by the
// driver and uploads are moved into place, so a crash never leaves a
// half-written file visible. An image becomes visible only after its
// checksums are verified: its checksums file, written last, completes it.
package server
