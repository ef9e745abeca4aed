package registry

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/internal/blobio"
	"github.com/hoist-dev/hoist/store"
)

// uploadID is the shape of the upload IDs the storage hands out.
var uploadID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func uploadURL(name, id string) string { return "/v2/" + name + "/blobs/uploads/" + id }
func blobURL(name string, d digest.Digest) string {
	return "/v2/" + name + "/blobs/" + d.String()
}

// blobCreated answers 201 for the blob d now in the repository.
func blobCreated(c call, d digest.Digest) {
	hd := c.w.Header()
	hd.Set("Location", blobURL(c.name, d))
	hd.Set("Docker-Content-Digest", d.String())
	hd.Set("Content-Length", "0")
	c.w.WriteHeader(http.StatusCreated)
}

// uploadAccepted answers status (202 or 204) for upload in, with where it
// stands.
func (h *Handler) uploadAccepted(c call, in store.Ingest, status int) {
	hd := c.w.Header()
	hd.Set("Location", uploadURL(c.name, in.Ref()))
	hd.Set("Docker-Upload-UUID", in.Ref())
	hd.Set("Range", "0-"+strconv.FormatInt(max(in.Offset()-1, 0), 10))
	hd.Set("Content-Length", "0")
	c.w.WriteHeader(status)
}

// startUpload answers POST .../blobs/uploads/: a mount (?mount=&from=), a
// monolithic upload (?digest= with the body), or the start of a session.
func (h *Handler) startUpload(c call) {
	q := c.r.URL.Query()
	if m := q.Get("mount"); m != "" {
		d, ok := parseDigest(c.w, m)
		if !ok {
			return
		}
		from := q.Get("from")
		if from != "" || h.cfg.autoMount {
			mounted, err := c.repo.Mount(c.ctx(), ocispec.Descriptor{Digest: d}, from)
			if err != nil && !errors.Is(err, errdef.ErrInvalid) {
				h.fail(c.w, c.r, err, CodeBlobUnknown)
				return
			}
			if mounted {
				blobCreated(c, d)
				return
			}
		}
	}
	if ds := q.Get("digest"); ds != "" {
		d, ok := parseDigest(c.w, ds)
		if !ok {
			return
		}
		in, err := c.repo.Ingest(c.ctx(), "", store.IngestOptions{Expected: ocispec.Descriptor{Digest: d, Size: -1}})
		if err != nil {
			h.fail(c.w, c.r, err, CodeBlobUploadUnknown)
			return
		}
		h.commit(c, in, d)
		return
	}
	in, err := c.repo.Ingest(c.ctx(), "", store.IngestOptions{})
	if err != nil {
		h.fail(c.w, c.r, err, CodeBlobUploadUnknown)
		return
	}
	defer in.Close()
	if h.cfg.chunkMinLength > 0 {
		c.w.Header().Set("OCI-Chunk-Min-Length", strconv.FormatInt(h.cfg.chunkMinLength, 10))
	}
	h.uploadAccepted(c, in, http.StatusAccepted)
}

// openUpload opens the upload the URL names, answering 404
// BLOB_UPLOAD_UNKNOWN for one that does not exist.
func (h *Handler) openUpload(c call, expected digest.Digest) (store.Ingest, bool) {
	if !uploadID.MatchString(c.arg) {
		WriteError(c.w, http.StatusNotFound, CodeBlobUploadUnknown, "no upload "+c.arg)
		return nil, false
	}
	opts := store.IngestOptions{Resume: true, Expected: ocispec.Descriptor{Digest: expected, Size: -1}}
	in, err := c.repo.Ingest(c.ctx(), c.arg, opts)
	if err != nil {
		h.fail(c.w, c.r, err, CodeBlobUploadUnknown)
		return nil, false
	}
	return in, true
}

// uploadStatus answers GET of an upload: 204 with the Range it holds.
func (h *Handler) uploadStatus(c call) {
	in, ok := h.openUpload(c, "")
	if !ok {
		return
	}
	defer in.Close()
	h.uploadAccepted(c, in, http.StatusNoContent)
}

// cancelUpload answers DELETE of an upload.
func (h *Handler) cancelUpload(c call) {
	in, ok := h.openUpload(c, "")
	if !ok {
		return
	}
	if err := in.Abort(c.ctx()); err != nil {
		h.fail(c.w, c.r, err, CodeBlobUploadUnknown)
		return
	}
	c.w.Header().Set("Content-Length", "0")
	c.w.WriteHeader(http.StatusNoContent)
}

// appendBody appends the request body to in. A Content-Range must start
// where the upload stands (else 416) and its length must match the body.
// It reports false once it has answered.
func (h *Handler) appendBody(c call, in store.Ingest) bool {
	body := io.Reader(c.r.Body)
	want := int64(-1)
	if cr := c.r.Header.Get("Content-Range"); cr != "" {
		start, end, ok := parseContentRange(cr)
		if !ok {
			WriteError(c.w, http.StatusBadRequest, CodeBlobUploadInvalid, fmt.Sprintf("Content-Range %q: use START-END", cr))
			return false
		}
		if start != in.Offset() {
			c.w.Header().Set("Range", "0-"+strconv.FormatInt(max(in.Offset()-1, 0), 10))
			c.w.Header().Set("Location", uploadURL(c.name, in.Ref()))
			WriteError(c.w, http.StatusRequestedRangeNotSatisfiable, CodeRangeInvalid,
				fmt.Sprintf("the chunk starts at %d but the upload holds %d bytes", start, in.Offset()))
			return false
		}
		want = end - start + 1
		body = io.LimitReader(body, want)
	}
	if cl := c.r.ContentLength; want >= 0 && cl >= 0 && cl != want {
		WriteError(c.w, http.StatusBadRequest, CodeBlobUploadInvalid, fmt.Sprintf("Content-Length %d and Content-Range length %d differ", cl, want))
		return false
	}
	n, err := blobio.CopyLarge(in, body)
	if err != nil {
		h.fail(c.w, c.r, fmt.Errorf("upload %s: after %d bytes: %w", in.Ref(), n, err), CodeBlobUploadUnknown)
		return false
	}
	if want >= 0 && n != want {
		WriteError(c.w, http.StatusBadRequest, CodeBlobUploadInvalid, fmt.Sprintf("the chunk held %d bytes, its Content-Range says %d", n, want))
		return false
	}
	return true
}

// parseContentRange reads "START-END" (optionally "bytes START-END/*").
func parseContentRange(v string) (start, end int64, ok bool) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "bytes ")
	v, _, _ = strings.Cut(v, "/")
	a, b, found := strings.Cut(v, "-")
	if !found {
		return 0, 0, false
	}
	s, err1 := strconv.ParseInt(a, 10, 64)
	e, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || s < 0 || e < s {
		return 0, 0, false
	}
	return s, e, true
}

// patchUpload answers PATCH: a chunk, or the whole stream.
func (h *Handler) patchUpload(c call) {
	in, ok := h.openUpload(c, "")
	if !ok {
		return
	}
	defer in.Close()
	if !h.appendBody(c, in) {
		return
	}
	if err := in.Close(); err != nil {
		h.fail(c.w, c.r, err, CodeBlobUploadUnknown)
		return
	}
	h.uploadAccepted(c, in, http.StatusAccepted)
}

// finishUpload answers PUT ?digest=: the last bytes, if any, then the
// upload is verified and becomes the blob.
func (h *Handler) finishUpload(c call) {
	d, ok := parseDigest(c.w, c.r.URL.Query().Get("digest"))
	if !ok {
		return
	}
	in, ok := h.openUpload(c, d)
	if !ok {
		return
	}
	h.commit(c, in, d)
}

// commit appends the body to in and commits it as d.
func (h *Handler) commit(c call, in store.Ingest, d digest.Digest) {
	defer in.Close()
	if !h.appendBody(c, in) {
		return
	}
	if _, err := in.Commit(c.ctx(), -1, d); err != nil {
		h.fail(c.w, c.r, err, CodeBlobUploadUnknown)
		return
	}
	blobCreated(c, d)
}
