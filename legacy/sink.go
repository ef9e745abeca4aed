package legacy

import (
	"context"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// BlobSink receives the blobs of an image that ToOCI builds: every layer
// and the config. It is the one thing ToOCI needs from a destination.
//
// PutBlob reads r until io.EOF and stores the bytes as one blob of
// mediaType. The digest and size are not known in advance (a layer is
// compressed on its way through), so the sink hashes (sha256) while it
// writes and returns the descriptor of what it read: mediaType, digest
// and size. Neither an OCI layout nor a registry has to hold a blob in
// memory for this:
//
//   - an OCI layout writes a temporary file while hashing and renames it
//     to blobs/sha256/DIGEST at EOF;
//   - a v2 registry opens an upload (POST), streams the bytes in a PATCH
//     and closes it with PUT ?digest=DIGEST once EOF gave the digest.
//
// If reading r fails, PutBlob must return an error and leave nothing
// visible: the error from r is how ToOCI reports a broken download or a
// layer that failed its v1 checksum. ToOCI cross-checks the returned
// digest and size against its own count of the bytes. The manifest is
// not put through the sink; ToOCI returns it for the caller to store
// after the blobs (and tag).
//
// ToOCI calls PutBlob from up to WithConcurrency goroutines at once, so a
// sink must be safe for concurrent use.
type BlobSink interface {
	PutBlob(ctx context.Context, mediaType string, r io.Reader) (ocispec.Descriptor, error)
}

// BlobSinkFunc adapts a function to the BlobSink interface.
type BlobSinkFunc func(ctx context.Context, mediaType string, r io.Reader) (ocispec.Descriptor, error)

// PutBlob calls f.
func (f BlobSinkFunc) PutBlob(ctx context.Context, mediaType string, r io.Reader) (ocispec.Descriptor, error) {
	return f(ctx, mediaType, r)
}

// BlobSource hands out the blobs of an OCI image, for FromOCI. Its method
// is store.Reader's Fetch, so any hoist store is one.
type BlobSource interface {
	// Fetch returns the content of desc, verified against its digest and
	// size as it is read (a mismatch is an error from Read, never io.EOF).
	// The caller closes it.
	Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error)
}
