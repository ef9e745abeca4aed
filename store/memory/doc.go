// Package memory is an in-memory store.Namespace: every repository a
// whole store.Repository (reads, verified writes, ingests that resume,
// tags, paged listings, Stat, Delete, Untag, mounts and referrers), with
// content shared between repositories as a registry's is.
//
// It is for tests and for programs that stage images briefly: nothing is
// written anywhere, and everything is lost with the Namespace. It keeps
// the rules every store keeps (see package store): a blob is visible only
// once its size and digest are checked, a manifest is accepted only after
// the blobs and manifests it names, and an ingest that is closed without
// a commit is not visible, but can be resumed by its ref.
package memory
