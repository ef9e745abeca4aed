// Package archive is the docker-archive store: a tarball in the format of
// docker save and docker load (docker-archive:FILE[:REF]).
//
// # Format
//
// A docker save tarball holds manifest.json, a list of images:
//
//	[{"Config":"<config file>","RepoTags":["name:tag"],"Layers":["<layer file>", ...]}]
//
// plus the config and layer files it names, and a legacy repositories file
// ({"name":{"tag":"<top layer id>"}}). Docker before 25 stored layers as
// <id>/layer.tar (uncompressed, duplicates as symlinks) next to <id>/json
// and <id>/VERSION, and configs as <hex>.json; skopeo writes <hex>.tar
// layers; Docker 25 and later store everything as blobs/sha256/<hex> and
// add an OCI image layout (index.json, oci-layout) to the same tar.
//
// # Reading
//
// Open indexes the tar once (the offset and size of every file, links
// resolved) and serves content straight from the file through section
// readers: the archive is never loaded into memory, and fetches may run
// concurrently. Each manifest.json entry is presented as an image manifest:
//
//   - When the tar also holds an OCI layout whose index.json leads to a
//     manifest with the entry's config and layer files (what hoist and
//     recent docker write), that manifest, byte for byte.
//   - Otherwise a Docker schema 2 manifest synthesised from the entry, with
//     deterministic bytes: its config is the config file
//     (application/vnd.docker.container.image.v1+json) and its layers the
//     layer files as stored. An uncompressed layer is
//     application/vnd.docker.image.rootfs.diff.tar with the digest of the
//     file, which is its diff_id; a gzip one
//     application/vnd.docker.image.rootfs.diff.tar.gzip (zstd:
//     ...diff.tar.zstd) with the digest of its bytes, hashed once at Open
//     unless the file name is that digest.
//
// # Writing
//
// Create writes one or more single-platform images. Config and layer blobs
// go into the tar as blobs/sha256/<hex> as they arrive, streamed (entry
// sizes come from descriptors) and never held whole in memory; concurrent
// pushes are serialised, the ones that find the tar busy spooling to a
// temporary file beside FILE meanwhile so that their sources keep flowing.
// Blobs may also come through ingests (store.Ingester): one read whole
// from a source that names its blob goes the same way; one written piece
// by piece waits in a spool file, kept by its ref until the Writer ends,
// so that it can be resumed, and enters the tar at its commit, verified.
// Manifests are kept in memory. Close adds the manifests, manifest.json,
// repositories, index.json and oci-layout, and renames the finished tar to
// FILE; until then FILE is untouched, so an interrupted copy leaves no half
// archive. (A process killed outright leaves its hidden temporary files,
// .FILE.*.tmp and .FILE.spool-*.tmp, beside FILE; they are safe to
// delete.)
//
// Layers are stored as they come, compressed or not: docker load and
// containerd decompress gzip and zstd layers and check diff_ids on the
// uncompressed stream, skopeo's docker-archive: transport decompresses on
// read, and keeping the bytes means an image pushed back to a registry has
// the digests it came with. (skopeo itself stores uncompressed layers,
// which makes archives several times larger and requires recompression to
// push.) An index cannot be written: docker archives hold one platform per
// image, so the caller picks one (hoist's --platform).
package archive
