package distribution

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/errdef"
)

// BlobSection opens bytes [offset, offset+n) of blob desc with one
// bounded request, Range: bytes=offset-(offset+n-1), for a caller that
// fetches the sections of a large blob side by side. The answer must be
// a 206 whose Content-Range is exactly that section; a 200 (the registry
// ignores Range and would send the whole blob) is closed unread and
// reported as an error matching errdef.ErrUnsupported, so the caller can
// fall back to one stream, except for a section that is the whole blob
// (offset 0, n its size), which a 200 answers as well: the reader then
// reports Unranged. The reader yields exactly n bytes: a body that
// ends sooner fails with io.ErrUnexpectedEOF, and nothing past n is read.
// A broken section is not resumed here; the caller asks again for what it
// lacks.
//
// The bytes are NOT verified (a section has no digest of its own): the
// caller hashes the whole blob. The caller closes the reader.
func (r *Repository) BlobSection(ctx context.Context, desc ocispec.Descriptor, offset, n int64) (io.ReadCloser, error) {
	if err := desc.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("blob digest %q: %w", desc.Digest, err)
	}
	if offset < 0 || n <= 0 || (desc.Size >= 0 && offset+n > desc.Size) {
		return nil, fmt.Errorf("blob %s@%s: section [%d, %d) is outside its %d bytes", r.name, desc.Digest, offset, offset+n, desc.Size)
	}
	last := offset + n - 1
	hdr := http.Header{"Accept-Encoding": {"identity"}, "Range": {fmt.Sprintf("bytes=%d-%d", offset, last)}}
	resp, err := r.reg.do(ctx, http.MethodGet, r.url("blobs", desc.Digest.String()), hdr, nil, 0)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusPartialContent:
	case http.StatusOK:
		if offset == 0 && n == desc.Size && (resp.ContentLength < 0 || resp.ContentLength == n) {
			// Asked for the whole blob, the registry sends the whole
			// blob: the section is what was asked for, unranged.
			return &sectionBody{body: resp.Body, left: n, unranged: true}, nil
		}
		resp.Body.Close()
		return nil, fmt.Errorf("blob %s@%s: the registry ignores Range (it answered 200 to bytes=%d-%d): %w", r.name, desc.Digest, offset, last, errdef.ErrUnsupported)
	default:
		return nil, errcode.FromResponse(resp)
	}
	cr := resp.Header.Get("Content-Range")
	start, end, ok := parseContentRange(cr)
	if !ok || start != offset || end != last {
		resp.Body.Close()
		return nil, fmt.Errorf("blob %s@%s: asked for bytes %d-%d, the registry sent Content-Range %q", r.name, desc.Digest, offset, last, cr)
	}
	if resp.ContentLength >= 0 && resp.ContentLength != n {
		resp.Body.Close()
		return nil, fmt.Errorf("blob %s@%s: section of %d bytes sent with Content-Length %d: %w", r.name, desc.Digest, n, resp.ContentLength, errcode.ErrSizeMismatch)
	}
	return &sectionBody{body: resp.Body, left: n}, nil
}

// parseContentRange reads "bytes START-END/SIZE" (or "bytes=…").
func parseContentRange(h string) (start, end int64, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(h), "bytes ")
	if !found {
		if rest, found = strings.CutPrefix(strings.TrimSpace(h), "bytes="); !found {
			return 0, 0, false
		}
	}
	rng, _, _ := strings.Cut(rest, "/")
	a, b, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	s, err1 := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
	e, err2 := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
	return s, e, err1 == nil && err2 == nil && s <= e
}

// sectionBody yields exactly left bytes of body.
type sectionBody struct {
	body     io.ReadCloser
	left     int64
	unranged bool
}

// Unranged reports that the registry answered with the whole blob (200),
// not a 206: it ignores Range, so splitting the blob would not work.
func (s *sectionBody) Unranged() bool { return s.unranged }

func (s *sectionBody) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.body.Read(p)
	s.left -= int64(n)
	if err == io.EOF {
		if s.left > 0 {
			return n, io.ErrUnexpectedEOF
		}
		return n, io.EOF
	}
	if err == nil && s.left == 0 {
		// Read the body to its own io.EOF (no bytes are left in it), so
		// that the connection goes back to the pool.
		var one [1]byte
		if m, _ := s.body.Read(one[:]); m > 0 {
			return n, fmt.Errorf("the registry sent more than the section's bytes")
		}
		return n, io.EOF
	}
	return n, err
}

func (s *sectionBody) Close() error { return s.body.Close() }
