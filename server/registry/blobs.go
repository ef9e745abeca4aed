package registry

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// parseDigest reads a digest from a path or query, answering 400
// DIGEST_INVALID when it is malformed.
func parseDigest(w http.ResponseWriter, s string) (digest.Digest, bool) {
	d := digest.Digest(s)
	if err := d.Validate(); err != nil {
		WriteError(w, http.StatusBadRequest, CodeDigestInvalid, fmt.Sprintf("digest %q: %v", s, err))
		return "", false
	}
	return d, true
}

// BlobRedirector is a Repository that can send a client elsewhere for a
// blob's bytes: an object store's presigned URL, so the bytes of a pull
// do not pass through the registry.
type BlobRedirector interface {
	// BlobRedirect returns a URL the client can GET the blob d from, for
	// request r, or "" to serve it here. When it returns a URL it has
	// checked that the repository holds d, and an error matching
	// errdef.ErrNotFound says it does not.
	BlobRedirect(r *http.Request, d digest.Digest) (string, error)
}

// getBlob answers GET and HEAD of a blob, with one Range if asked, or
// redirects a GET when the repository is a BlobRedirector with a URL.
func (h *Handler) getBlob(c call) {
	d, ok := parseDigest(c.w, c.arg)
	if !ok {
		return
	}
	hd := c.w.Header()
	// A redirect needs no size: the redirector's own check that the
	// repository holds d is all, one storage request fewer than Stat.
	if br, ok := c.repo.(BlobRedirector); ok && c.r.Method == http.MethodGet {
		to, err := br.BlobRedirect(c.r, d)
		if err != nil {
			h.fail(c.w, c.r, err, CodeBlobUnknown)
			return
		}
		if to != "" {
			hd.Set("Docker-Content-Digest", d.String())
			hd.Set("Location", to)
			c.w.WriteHeader(http.StatusTemporaryRedirect)
			return
		}
	}
	desc, err := c.repo.Stat(c.ctx(), d)
	if err != nil {
		h.fail(c.w, c.r, err, CodeBlobUnknown)
		return
	}
	hd.Set("Docker-Content-Digest", d.String())
	hd.Set("ETag", `"`+d.String()+`"`)
	hd.Set("Accept-Ranges", "bytes")
	hd.Set("Content-Type", "application/octet-stream")
	start, end, partial, ok := parseRange(c.r.Header.Get("Range"), desc.Size)
	if !ok {
		hd.Set("Content-Range", "bytes */"+strconv.FormatInt(desc.Size, 10))
		WriteError(c.w, http.StatusRequestedRangeNotSatisfiable, CodeRangeInvalid, "the range is outside the blob's "+strconv.FormatInt(desc.Size, 10)+" bytes")
		return
	}
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		hd.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, desc.Size))
	}
	hd.Set("Content-Length", strconv.FormatInt(end-start, 10))
	if c.r.Method == http.MethodHead || end == start {
		c.w.WriteHeader(status)
		return
	}
	rc, err := c.repo.FetchFrom(c.ctx(), ocispec.Descriptor{Digest: d, Size: desc.Size}, start)
	if err != nil {
		hd.Del("Content-Length")
		h.fail(c.w, c.r, err, CodeBlobUnknown)
		return
	}
	defer rc.Close()
	c.w.WriteHeader(status)
	if _, err := io.CopyN(c.w, rc, end-start); err != nil && c.r.Context().Err() == nil {
		h.cfg.logger.Warn("blob read broke off", "repository", c.name, "digest", d, "err", err)
	}
}

// parseRange reads a Range header for a blob of size bytes: the byte
// range [start, end) to send, and whether it is partial. A header this
// server does not serve (several ranges, another unit) is ignored, as
// RFC 9110 allows; ok is false for a range outside the blob or one
// that ends before it starts.
func parseRange(v string, size int64) (start, end int64, partial, ok bool) {
	spec, found := strings.CutPrefix(v, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, size, false, true
	}
	a, b, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, size, false, true
	}
	switch {
	case a == "":
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return 0, size, false, true
		}
		return max(size-n, 0), size, true, size > 0
	default:
		s, err := strconv.ParseInt(a, 10, 64)
		if err != nil || s < 0 {
			return 0, size, false, true
		}
		e := size - 1
		if b != "" {
			if e, err = strconv.ParseInt(b, 10, 64); err != nil {
				return 0, size, false, true
			}
			if e < s {
				return 0, 0, false, false // invalid (RFC 9110 14.1.1): 416
			}
		}
		if s >= size {
			return 0, 0, false, false
		}
		return s, min(e+1, size), true, true
	}
}

// deleteBlob answers DELETE of a blob: its link in this repository goes;
// the bytes stay until GC.
func (h *Handler) deleteBlob(c call) {
	d, ok := parseDigest(c.w, c.arg)
	if !ok {
		return
	}
	if err := c.repo.Delete(c.ctx(), ocispec.Descriptor{Digest: d, MediaType: "application/octet-stream"}); err != nil {
		h.fail(c.w, c.r, err, CodeBlobUnknown)
		return
	}
	c.w.Header().Set("Content-Length", "0")
	c.w.WriteHeader(http.StatusAccepted)
}
