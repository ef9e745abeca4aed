// Package storage is the storage of hoist's own registry: a
// store.Namespace kept through a distribution storage driver
// (github.com/distribution/distribution/v3/registry/storage/driver), so the
// same code runs on a local directory (the filesystem driver, the default
// of `hoist serve --root DIR`), in memory (tests), or on an object store
// shared by several server instances.
//
// The registry logic is this package's own; the driver only stores paths.
// Every path lives under /hoist:
//
//	blobs/ALG/HH/HEX/data                     content, by digest, shared by all repositories
//	blobs/ALG/HH/HEX/used                     touched when a manifest takes the blob (GC's fence)
//	repositories/NAME/_blobs/ALG/HEX          link: the blob is in repository NAME
//	repositories/NAME/_manifests/ALG/HEX      link: the manifest is in NAME; holds its media type
//	repositories/NAME/_tags/TAG               the tag's descriptor (JSON)
//	repositories/NAME/_referrers/ALG/HEX/ALG-HEX   a referrer of subject ALG:HEX (its descriptor, JSON)
//	repositories/NAME/_uploads/ID/data        an upload's bytes so far
//	repositories/NAME/_uploads/ID/hash/ALG-OFFSET  the resumable hash state at OFFSET
//	repositories/NAME/_uploads/ID/started     when the upload began (for GC)
//	tmp/RANDOM                                small files being written, then moved into place
//	trash/ALG-HEX                             a blob GC has moved aside while it decides
//
// Repository path components never start with '_' (the repository
// grammar), so the underscore directories cannot collide with a nested
// repository.
//
// Guarantees, on every driver:
//   - Content becomes visible only once verified: an upload's bytes stay
//     under _uploads until their digest and size are checked, then one Move
//     puts them under blobs/. A process killed mid-upload leaves only the
//     upload, which a later request resumes or GC removes.
//   - Small files (tags, links, referrers) are written whole to tmp/ and
//     moved into place, so a reader sees the old value or the new one. The
//     last writer of a tag wins.
//   - No state lives in the process: upload sessions (bytes and hash
//     state) are in storage, so another instance on the same storage
//     continues an upload, and a restarted one does too.
//   - A manifest is accepted only when the blobs and manifests it refers to
//     are in the repository (unless WithAllowMissing), and one that holds
//     both "manifests" and "layers" is refused as ambiguous.
//
// GC (Namespace.GC) marks every blob reachable from a manifest of any
// repository and removes the rest once older than a grace period, together
// with abandoned uploads. It is safe while the registry serves pushes: see
// gc.go for the fence that keeps a blob a manifest is being pushed with.
package storage
