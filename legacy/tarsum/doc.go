// Package tarsum computes the two checksums of a legacy Docker Registry v1
// push: TarSum version 0 (label "tarsum+sha256"), sent in the
// X-Docker-Checksum header, and the payload checksum, sent in
// X-Docker-Checksum-Payload.
//
// Both are computed in one pass over the layer as it streams to the
// registry: tee the layer bytes into a [Writer] and a [Payload], for example
// with io.MultiWriter, then Close the Writer and read both sums.
//
// TarSum version 0 works on the uncompressed tar (a gzip-compressed layer is
// detected from its first bytes and decompressed). For every entry it hashes
// the header fields name, mode, uid, gid, size, mtime, typeflag, linkname,
// uname, gname, devmajor and devminor, each written as the key immediately
// followed by the decimal value (the typeflag as its raw byte), and then the
// entry's bytes. The hex digests of all entries are sorted as strings, and
// the final sum is the SHA-256 of an extra payload (the image JSON when
// pushing) followed by those sorted digests. PAX extended attributes do not
// take part in version 0, and neither does the order of the entries.
//
// Differences from the original implementation, which matter only for
// unusual layers:
//   - Every entry counts. The client of mid 2014 kept one digest per path
//     (the last entry with a given name won); the v1 registry kept them all,
//     as this package does.
//   - Header-only entries (directories, links, devices, fifos) contribute no
//     body bytes even if their size field is not zero, as Go's archive/tar
//     reads them.
package tarsum
