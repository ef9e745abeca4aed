// Package server holds the registries behind `hoist serve`: http.Handlers
// that serve a directory, for local use and as in-process test peers.
//
// [V1] speaks the legacy Docker Registry v1 API under /v1/, in both roles:
// the index (accounts, search, repository image lists, tokens) and the
// registry (image JSON, layers, ancestry, tags). No other v1 server exists
// any more, so V1 is the peer that hoist's v1 client is tested against; it
// follows the protocol as the original client spoke it (see
// shared/V1-PROTOCOL.md in the project notes).
//
// Everything V1 stores lives under its root directory and is written with a
// temporary file and a rename, so a crash never leaves a half-written file
// in place. An image becomes visible only after its checksums are verified.
package server
