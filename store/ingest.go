package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// IngestOptions describe an ingest when it is opened.
type IngestOptions struct {
	// Expected is the blob the ingest is expected to become, when known in
	// advance: its digest chooses the hash algorithm, and a store may
	// refuse a size over Expected.Size early. The zero value means unknown
	// (the digest is named only at Commit, as a v2 upload names it at its
	// final PUT); the store then hashes with sha256 and, if Commit names
	// another algorithm, re-reads what it holds.
	Expected ocispec.Descriptor
	// Resume makes Ingest open only an ingest the store already holds: a
	// ref it does not hold is an error matching errdef.ErrNotFound instead
	// of a new ingest. A registry server sets it for every request after
	// the one that started an upload, so an unknown upload ID is answered
	// 404 rather than silently restarted.
	Resume bool
}

// CheckIngest checks the arguments of an Ingester.Ingest call before the
// store opens anything: ctx must not be done, and opts.Expected.Digest,
// when given, must be a valid digest (an error naming it otherwise). It
// returns the ref to open: ref itself, or for "" a new unique ref
// ("ingest-" and 32 random hex digits).
func CheckIngest(ctx context.Context, ref string, opts IngestOptions) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if d := opts.Expected.Digest; d != "" {
		if err := d.Validate(); err != nil {
			return "", fmt.Errorf("invalid digest %q: %w", d, err)
		}
	}
	if ref == "" {
		b := make([]byte, 16)
		rand.Read(b)
		ref = "ingest-" + hex.EncodeToString(b)
	}
	return ref, nil
}

// Ingester is a Writer that takes blobs as sessions, as containerd's
// content.Ingester does: bytes arrive over one or more opens of the same
// ingest (several requests of a chunked upload, several processes after a
// kill, several server instances on shared storage), and the digest and
// size are checked when the ingest is committed.
//
// Writer.Push is the one-call form for content whose descriptor is known.
type Ingester interface {
	// Ingest opens the ingest named ref. A ref the store does not hold
	// starts a new, empty ingest; the ref of an ingest left open (neither
	// committed nor aborted) resumes it at its Offset. With ref "" the
	// store chooses a new unique ref (Ingest.Ref returns it). A ref is
	// opaque to the store: the copy engine uses the expected digest, so a
	// re-run resumes; a registry server uses a random upload ID.
	//
	// The ingest's writes run under ctx. An ingest is not safe for
	// concurrent use; two opens of one ref at once are the caller's error,
	// and a store may refuse the second.
	Ingest(ctx context.Context, ref string, opts IngestOptions) (Ingest, error)
}

// Ingest is one open blob ingest. Nothing of it is visible as content
// until Commit succeeds.
type Ingest interface {
	// Ref names the ingest, for Ingester.Ingest to resume it.
	Ref() string
	// Offset is how many bytes the ingest holds: where the next Write
	// goes.
	Offset() int64
	// Write appends p to the ingest. Bytes past Expected.Size, when the
	// ingest was opened with one, are an error matching
	// errdef.ErrSizeMismatch. An ingest may also implement io.ReaderFrom
	// (CopyIngest uses it): a store can then trust a source that verifies
	// Expected itself (content.Verifying) instead of hashing again, or
	// send the rest of the blob in one request.
	Write(p []byte) (int, error)
	// Commit ends the ingest: its content must be size bytes (any size
	// when size < 0) and hash to expected. On success the blob is
	// visible in the store and the ingest is gone. On a mismatch the
	// ingest is discarded and the error matches errdef.ErrSizeMismatch or
	// errdef.ErrDigestMismatch. It returns the committed blob's
	// descriptor (digest and size).
	Commit(ctx context.Context, size int64, expected digest.Digest) (ocispec.Descriptor, error)
	// Abort discards the ingest and everything it holds (see Aborter).
	Aborter
	// Close releases what the ingest holds open and keeps its content for
	// a later Ingest of the same ref. After Commit or Abort it does
	// nothing.
	Close() error
}
