package distribution

import (
	"context"
	"fmt"
	"io"
	"net/http"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/transport"
)

// BlobHead checks that blob d exists in the repository and returns its
// descriptor: the digest, its size from Content-Length, and media type
// application/octet-stream (registries do not know blob media types). A
// missing blob matches errcode.ErrNotFound.
func (r *Repository) BlobHead(ctx context.Context, d digest.Digest) (ocispec.Descriptor, error) {
	if err := d.Validate(); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("blob digest %q: %w", d, err)
	}
	resp, err := r.reg.do(ctx, http.MethodHead, r.url("blobs", d.String()), nil, nil, 0)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := transport.Expect(resp, http.StatusOK); err != nil {
		return ocispec.Descriptor{}, err
	}
	transport.Drain(resp)
	if resp.ContentLength < 0 {
		return ocispec.Descriptor{}, fmt.Errorf("HEAD blob %s@%s: the registry did not say its size (no Content-Length)", r.name, d)
	}
	return ocispec.Descriptor{MediaType: "application/octet-stream", Digest: d, Size: resp.ContentLength}, nil
}

// Blob opens blob desc for reading. The caller must Close the reader. The
// reader's life is bounded by ctx: cancelling ctx fails the next Read.
//
// The reader verifies as it goes: it never returns more than desc.Size
// bytes, and at the end it checks size and digest, so Read returns io.EOF
// only after the bytes matched desc and returns a wrapped
// errcode.ErrDigestMismatch or errcode.ErrSizeMismatch otherwise. A caller
// that writes what it reads somewhere must therefore treat that copy as
// unusable until it has seen io.EOF (e.g. write to a temp file and rename
// it after).
//
// When the connection drops mid-body (or the transport reports a stall, or
// the body ends before desc.Size bytes), the reader re-requests the rest
// with Range: bytes=N- and carries on, up to WithMaxResumes times; the
// caller sees one unbroken stream (see transport.ResumingBody). If the
// server ignores Range and sends the whole blob again, the bytes the caller
// already has are read and dropped, and the digest still covers exactly
// what the caller received. Redirects to storage hosts are followed by the
// http.Client. desc.Size may be -1 when unknown; only the digest is then
// checked.
func (r *Repository) Blob(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if err := desc.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("blob digest %q: %w", desc.Digest, err)
	}
	b, err := transport.OpenResumingBody(ctx, r.blobSource(ctx, desc), 0)
	if err != nil {
		return nil, err
	}
	v, err := content.NewVerifier(b, desc)
	if err != nil {
		b.Close()
		return nil, err
	}
	return &verifiedBody{Verifier: v, body: b}, nil
}

// blobSource describes the GET of blob desc for a transport.ResumingBody.
func (r *Repository) blobSource(ctx context.Context, desc ocispec.Descriptor) transport.Resumable {
	u := r.url("blobs", desc.Digest.String())
	return transport.Resumable{
		Name:       fmt.Sprintf("blob %s@%s", r.name, desc.Digest),
		Size:       desc.Size,
		MaxResumes: r.reg.opts.maxResumes,
		Open: func(offset int64) (*http.Response, error) {
			hdr := http.Header{"Accept-Encoding": {"identity"}}
			if offset > 0 {
				hdr.Set("Range", fmt.Sprintf("bytes=%d-", offset))
			}
			return r.reg.do(ctx, http.MethodGet, u, hdr, nil, 0)
		},
	}
}

type verifiedBody struct {
	*content.Verifier
	body io.Closer
}

func (v *verifiedBody) Close() error { return v.body.Close() }

// CopyBlob streams blob desc into w and returns the number of bytes
// written. It returns nil only when all of the blob was written and
// verified; on any error, w holds a partial or wrong copy that the caller
// must discard. See Blob for resuming and verification.
func (r *Repository) CopyBlob(ctx context.Context, desc ocispec.Descriptor, w io.Writer) (int64, error) {
	rc, err := r.Blob(ctx, desc)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	return io.Copy(w, rc)
}

// DeleteBlob deletes blob d from the repository. Registries that do not
// allow it answer errcode.ErrUnsupported (405) or a 400.
func (r *Repository) DeleteBlob(ctx context.Context, d digest.Digest) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("blob digest %q: %w", d, err)
	}
	resp, err := r.reg.do(ctx, http.MethodDelete, r.url("blobs", d.String()), nil, nil, 0)
	if err != nil {
		return err
	}
	if err := transport.Expect(resp, http.StatusAccepted, http.StatusOK, http.StatusNoContent); err != nil {
		return err
	}
	transport.Drain(resp)
	return nil
}
