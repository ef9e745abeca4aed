// Package reference parses, normalises and validates image references the
// way docker does, so that what a user types at docker works at hoist.
//
// A reference is [host[:port]/]path[:tag][@digest]:
//
//   - The first path component names a registry host when it contains a '.'
//     or a ':', is "localhost", or starts with '[' (an IPv6 literal such as
//     "[::1]:5000"). Otherwise the registry is DefaultRegistry ("docker.io").
//   - On Docker Hub a one-component repository gets "library/" in front:
//     "ubuntu" is "docker.io/library/ubuntu". "index.docker.io" and
//     "registry-1.docker.io" are aliases and become "docker.io".
//   - Repository path components follow the OCI distribution spec,
//     [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*, joined by '/'; registry and
//     repository together are at most 255 characters (docker's own parser,
//     since distribution/reference v0.6, counts the repository alone). A tag is
//     [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. A digest must be valid for
//     github.com/opencontainers/go-digest (sha256, sha384 or sha512 with the
//     right number of lowercase hex digits).
//
// Parse accepts a tag, a digest, both or neither; ParseName accepts only a
// repository name. Reference.String is the canonical full form and
// Reference.Familiar docker's short form; both parse back to the same
// Reference. APIHost maps "docker.io" to the host that actually serves the
// API, "registry-1.docker.io".
//
// ParseV1 applies the legacy Docker Registry v1 naming rules
// (NAMESPACE/REPO, 4-30 character namespaces, an optional private
// registry host) for the v1 client.
//
// Every error returned here is an *Error and matches ErrInvalid with
// errors.Is, so a command line can map any of them to a usage error. Nothing
// in this package does I/O; all functions are safe for concurrent use.
package reference
