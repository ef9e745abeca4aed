package distribution

import (
	"context"
	"fmt"
	"io"
	"net/http"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
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
	if offset < 0 || (desc.Size >= 0 && offset > desc.Size) {
		return nil, fmt.Errorf("blob %s@%s: offset %d is outside its %d bytes", r.name, desc.Digest, offset, desc.Size)
	}
	if offset == 0 {
		return r.Blob(ctx, desc)
	}
	if offset == desc.Size {
		// Nothing is left; asking would only draw a 416.
		return http.NoBody, nil
	}
	b := &resumingBody{
		name:       fmt.Sprintf("blob %s@%s", r.name, desc.Digest),
		size:       desc.Size,
		maxResumes: r.reg.opts.maxResumes,
		ctxErr:     ctx.Err,
		off:        offset,
	}
	u := r.url("blobs", desc.Digest.String())
	b.open = func(offset int64) (*http.Response, error) {
		hdr := http.Header{"Accept-Encoding": {"identity"}}
		if offset > 0 {
			hdr.Set("Range", fmt.Sprintf("bytes=%d-", offset))
		}
		return r.reg.do(ctx, http.MethodGet, u, hdr, nil, 0)
	}
	if err := b.reopen(); err != nil {
		return nil, err
	}
	return b, nil
}
