// Package atomicfile replaces files so that a reader, or a crash, sees the
// old content or the new, never a mix and never a part: the bytes go to a
// temporary file beside the target (or in a scratch directory of the
// caller's), which is fsync'd, renamed over the target, and whose
// directory is fsync'd so that the rename survives a power failure too.
//
// Every writer of hoist that replaces a file it does not append to (the
// credentials file, a layout's index.json, a docker archive, the
// blob-location cache, hoist blob -o) goes through it, so they agree on
// durability. It imports nothing of hoist's.
package atomicfile
