package distribution

import (
	"context"
	"fmt"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/transport"
)

// BlobFrom opens blob desc from byte offset on, for a caller that already
// holds the first offset bytes (a resumed download into a layout). It asks
// with Range: bytes=OFFSET-; a registry that ignores Range and sends the
// whole blob has the first offset bytes skipped. Dropped connections are
// resumed as in Blob.
//
// The bytes are NOT verified: a suffix has no digest of its own. The
// caller must hash the prefix it holds together with what it reads here,
// and discard both on a mismatch. The caller closes the reader.
func (r *Repository) BlobFrom(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	if err := desc.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("blob digest %q: %w", desc.Digest, err)
	}
	if offset == 0 {
		return r.Blob(ctx, desc)
	}
	b, err := transport.OpenResumingBody(ctx, r.blobSource(ctx, desc), offset)
	if err != nil {
		return nil, err
	}
	return b, nil
}
