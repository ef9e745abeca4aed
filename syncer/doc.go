// Package syncer mirrors many repositories at once, as a config file
// lists them (hoist's format, or skopeo sync's unchanged): sources given
// as registries with repository lists or catalog patterns, or as trees of
// OCI layouts; a target per source, a registry and prefix or a directory
// of OCI layouts for air-gapped transfer; tag filters (allow and deny
// patterns, semver ranges, the latest N versions, digest pins);
// platforms and referrers; request limits per registry host.
//
// A Syncer keeps a State between runs (source tag to digest, target tag
// to what it holds), so a run whose sources have not moved costs one tags
// listing per repository and one HEAD per tag, and nothing on the target
// (WithFast: no HEAD either). It prefers HEAD to GET everywhere, reads
// the RateLimit-Limit, RateLimit-Remaining and Retry-After headers of
// Docker Hub and the IETF draft, and pauses before a registry's quota
// runs out rather than after a 429, saying why (EventWait). One failing
// tag or repository does not stop a run; its Result lists every item and
// every failure. The copies themselves are package copy's: blobs the
// target has are skipped, shared blobs move once, and a tag is set only
// after everything it names.
//
// The hoist command's sync verb is a thin layer over it; docs/sync.md is
// the config reference.
package syncer
