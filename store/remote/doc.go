// Package remote is the registry implementation of store.Reader and
// store.Writer: one repository of an OCI Distribution (v2) registry, through
// package distribution. It adds what the copy engine needs on top of the
// protocol client: existence checks keyed on descriptors, mounts, tags that
// re-send the manifest bytes, and range reads for resumed downloads.
//
// It is also the registry kind of location (Kind: REF, docker://REF).
// Open, which package hoist's Session calls with itself as the Env,
// opens a repository in whichever protocol its registry speaks, with one
// authenticated client per registry host.
package remote
