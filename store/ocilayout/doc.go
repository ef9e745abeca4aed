// Package ocilayout is an OCI image layout directory (oci:DIR[:TAG]) as a
// store: a store.Reader, store.Writer, store.Ingester, store.RangeReader,
// store.TagLister, store.Statter, store.Deleter, store.Untagger,
// store.Referencer and store.Aborter.
//
// The directory follows the image-spec image-layout.md: an oci-layout file,
// an index.json whose entries are the layout's roots, tagged with the
// org.opencontainers.image.ref.name annotation, and content under
// blobs/ALG/HEX. Layouts written by skopeo, umoci and crane read as they
// are; what this package writes reads with them.
//
// # Guarantees
//
//   - Nothing partial is ever visible under blobs/. A blob is written to a
//     staging file under DIR/.hoist-tmp, checked against its descriptor
//     (size and digest), and only then renamed into place. A manifest or
//     index is also checked to have all its children present.
//   - A tag never lands before what it names is on disk. The fsync of each
//     blob is deferred to the next Tag of the same Layout, which syncs every
//     blob committed since (their writeback started at commit), then
//     index.json: one wait at the end of a pull instead of one per blob.
//     Untagged blobs of a crash can be lost to a power failure; Exists
//     checks sizes, so a re-run fetches them again.
//   - Interrupted downloads resume. A blob arrives through an ingest
//     (store.Ingester) whose staging file is named by its ref (the copy
//     engine's is the blob's digest) and keeps whatever arrived before the
//     process was stopped, even by SIGKILL; the next Ingest of the ref,
//     in any process, starts at its Offset, hashes the staged prefix once
//     and verifies the whole blob at Commit. A staged prefix that turns
//     out wrong is discarded there. Push is a one-call ingest of its own
//     that keeps nothing of a failure.
//   - Several processes can write one layout at once. A staging file is
//     flock'd while written; a second writer of the same blob (an ingest
//     of a busy ref that names the blob) writes a private temporary file
//     instead, and both renames leave the same
//     bytes. index.json is changed only under an flock of DIR/oci-layout,
//     re-read and merged under the lock and replaced atomically (temporary
//     file, fsync, rename), so concurrent Tag calls from any number of
//     processes all survive.
//   - A new layout appears atomically to other hoist processes: creation
//     runs under an flock of the directory and writes oci-layout last.
//
// The flocks are advisory: they coordinate hoist processes (and anything
// else that takes them), not other tools writing the same directory.
//
// DIR/.hoist-tmp exists only while something is staged or being written.
// A process killed while writing a private copy (see above) or index.json
// leaves a *.tmp file there; nothing reads those, and they are safe to
// delete. Other tools ignore the directory.
package ocilayout
