// Package remote is the registry implementation of the store contract:
// Repository is one repository of an OCI Distribution (v2) registry, a
// whole store.Repository, through package distribution; Registry is the
// registry as a store.Namespace (its catalog and its repositories);
// V1Repository is a legacy v1 repository, converted through a private
// OCI layout. It adds what the copy engine needs on top of the protocol
// clients: existence checks keyed on descriptors, mounts, tags that
// re-send the manifest bytes, range reads for resumed downloads, and
// ingests as upload sessions, kept by ref (UploadSessions) so that an
// interrupted upload resumes.
//
// It is also the registry kind of location (Kind: REF, docker://REF).
// Open, which package hoist's Session calls with itself as the Env,
// opens a repository in whichever protocol its registry speaks, with one
// authenticated client per registry host; OpenRegistry opens a registry.
package remote
