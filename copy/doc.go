// Package copy is hoist's copy engine: it walks an image graph (index →
// manifests → config and layers) from a store.Reader into a store.Writer.
//
// What it guarantees:
//   - every blob is verified (the Reader checks what it hands out, the
//     Writer checks what it stores);
//   - a manifest is pushed only after all of its blobs, an index only after
//     all of its manifests, and the tag last, so an interrupted copy never
//     leaves a tag pointing at missing content;
//   - blobs the target has are skipped, blobs in another repository of the
//     same registry are mounted, and what an interrupted copy left in the
//     target's ingest of a blob (a layout's staging file, an upload
//     session) is resumed;
//   - a bounded number of blobs move at once, largest first, each streamed
//     from source to target without whole blobs in memory; a large blob
//     from a slow connection is split into parallel ranged sections
//     (ranged.go), written at their offsets into a target that takes them
//     (an OCI layout's staging file) or, for a target that takes bytes
//     only in order, passed through a spool (spool.go) whose split-off
//     sections wait in an unlinked temporary file;
//   - digests never change silently: media types are converted to OCI only
//     with WithFormat(FormatOCI), and the new digest is reported.
//
// The engine reports progress as Events to a callback and knows nothing
// about who renders them.
package copy
