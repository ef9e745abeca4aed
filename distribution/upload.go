package distribution

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/internal/blobio"
	"github.com/hoist-dev/hoist/transport"
)

// Upload is a blob upload session on the registry: a location to send
// bytes to and the offset the next byte goes to. PushBlob drives one for
// you; use Upload directly to push from a source you produce piece by
// piece, or to resume an interrupted upload from a saved Location.
//
// An Upload is not safe for concurrent use. It holds no connection; an
// abandoned one is eventually dropped by the registry, or at once by Cancel.
type Upload struct {
	repo     *Repository
	loc      *url.URL
	offset   int64
	minChunk int64
}

// StartUpload opens an upload session (POST /v2/NAME/blobs/uploads/).
func (r *Repository) StartUpload(ctx context.Context) (*Upload, error) {
	resp, err := r.reg.do(ctx, http.MethodPost, r.url("blobs", "uploads", ""), nil, http.NoBody, 0)
	if err != nil {
		return nil, err
	}
	return r.uploadFrom(resp)
}

// uploadFrom turns a 202 answer into an Upload.
func (r *Repository) uploadFrom(resp *http.Response) (*Upload, error) {
	if err := transport.Expect(resp, http.StatusAccepted); err != nil {
		return nil, err
	}
	transport.Drain(resp)
	loc, err := location(resp)
	if err != nil {
		return nil, err
	}
	u := &Upload{repo: r, loc: loc}
	if v := resp.Header.Get("OCI-Chunk-Min-Length"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			u.minChunk = n
		}
	}
	if off, err := parseRange(resp.Header.Get("Range")); err == nil {
		u.offset = off
	}
	return u, nil
}

// ResumeUpload picks up the upload session at location (from
// Upload.Location, possibly saved by an earlier process): it asks the
// registry where the session stands (GET) and returns an Upload whose
// Offset is where the next byte goes. A session the registry no longer
// knows matches errcode.ErrNotFound.
func (r *Repository) ResumeUpload(ctx context.Context, location string) (*Upload, error) {
	loc, err := r.reg.base.Parse(location)
	if err != nil {
		return nil, fmt.Errorf("upload location %q: %w", location, err)
	}
	u := &Upload{repo: r, loc: loc}
	if err := u.Refresh(ctx); err != nil {
		return nil, err
	}
	return u, nil
}

// Location returns the session's current URL, for ResumeUpload. It may
// carry registry state and signatures in its query: treat it as a secret.
func (u *Upload) Location() string { return u.loc.String() }

// Offset returns how many bytes the registry has accepted so far.
func (u *Upload) Offset() int64 { return u.offset }

// MinChunkSize returns the registry's OCI-Chunk-Min-Length, or 0 if it set
// none. Every chunk but the last should be at least this long.
func (u *Upload) MinChunkSize() int64 { return u.minChunk }

// Refresh asks the registry where the session stands (GET on its location)
// and updates Offset and Location from the answer's Range and Location.
func (u *Upload) Refresh(ctx context.Context) error {
	resp, err := u.repo.reg.do(ctx, http.MethodGet, u.loc, nil, nil, 0)
	if err != nil {
		return err
	}
	if err := transport.Expect(resp, http.StatusNoContent, http.StatusOK); err != nil {
		return err
	}
	transport.Drain(resp)
	off, err := parseRange(resp.Header.Get("Range"))
	if err != nil {
		return fmt.Errorf("upload status of %s: %w", u.repo.name, err)
	}
	u.offset = off
	if resp.Header.Get("Location") != "" {
		if u.loc, err = location(resp); err != nil {
			return err
		}
	}
	return nil
}

// WriteChunk sends the next n bytes, read from r, as one PATCH with
// Content-Range OFFSET-(OFFSET+n-1). It reads exactly n bytes from r (fewer
// is an error) and does not close it. On success Offset has advanced by n
// and Location is the one the registry returned. If the registry
// acknowledges less than it was sent, WriteChunk fails and Offset is what
// the registry acknowledged, so a caller with a seekable source can
// continue from there.
func (u *Upload) WriteChunk(ctx context.Context, r io.Reader, n int64) error {
	if n <= 0 {
		return nil
	}
	hdr := http.Header{
		"Content-Type":  {"application/octet-stream"},
		"Content-Range": {fmt.Sprintf("%d-%d", u.offset, u.offset+n-1)},
	}
	resp, err := u.repo.reg.doBody(ctx, http.MethodPatch, u.loc, hdr, r, n)
	if err != nil {
		return err
	}
	if err := transport.Expect(resp, http.StatusAccepted, http.StatusNoContent); err != nil {
		return err
	}
	transport.Drain(resp)
	want := u.offset + n
	if resp.Header.Get("Location") != "" {
		if u.loc, err = location(resp); err != nil {
			return err
		}
	}
	if h := resp.Header.Get("Range"); h != "" {
		got, err := parseRange(h)
		if err != nil {
			return err
		}
		if got != want {
			u.offset = got
			return fmt.Errorf("upload to %s: sent bytes up to %d, the registry acknowledged %d", u.repo.name, want, got)
		}
	}
	u.offset = want
	return nil
}

// WriteStream sends what r yields, to its end, as one streamed PATCH: no
// Content-Range and no length (chunked transfer encoding), the form
// docker and distribution call a stream upload, for bytes whose count is
// not known in advance. Offset then moves to what the registry says it
// holds (its Range header), or by the bytes sent when it does not say.
// r is not closed.
func (u *Upload) WriteStream(ctx context.Context, r io.Reader) error {
	cr := &blobio.Counter{R: r}
	hdr := http.Header{"Content-Type": {"application/octet-stream"}}
	resp, err := u.repo.reg.do(ctx, http.MethodPatch, u.loc, hdr, cr, -1)
	if err != nil {
		return err
	}
	if err := transport.Expect(resp, http.StatusAccepted, http.StatusNoContent); err != nil {
		return err
	}
	transport.Drain(resp)
	if resp.Header.Get("Location") != "" {
		if u.loc, err = location(resp); err != nil {
			return err
		}
	}
	want := u.offset + cr.N
	if h := resp.Header.Get("Range"); h != "" {
		got, err := parseRange(h)
		if err != nil {
			return err
		}
		u.offset = got
		if got != want {
			return fmt.Errorf("upload to %s: sent bytes up to %d, the registry acknowledged %d", u.repo.name, want, got)
		}
		return nil
	}
	u.offset = want
	return nil
}

// Commit closes the session (PUT ?digest=) and makes the blob desc
// visible. The registry checks what it received against desc.Digest; the
// digest it reports back (Docker-Content-Digest), when given, must equal it.
func (u *Upload) Commit(ctx context.Context, desc ocispec.Descriptor) error {
	return u.put(ctx, desc, nil, 0)
}

// put sends the closing PUT, with a final body of n bytes or none.
func (u *Upload) put(ctx context.Context, desc ocispec.Descriptor, body io.Reader, n int64) error {
	hdr := http.Header{}
	if body == nil {
		body = http.NoBody
	} else {
		hdr.Set("Content-Type", "application/octet-stream")
	}
	// Some storage backends answer only once they have moved the blob
	// into place: wait for that as for a stall, not a quick answer.
	ctx = transport.WithSlowAnswer(ctx)
	resp, err := u.repo.reg.doBody(ctx, http.MethodPut, withQuery(u.loc, "digest", desc.Digest.String()), hdr, body, n)
	if err != nil {
		return err
	}
	if err := transport.Expect(resp, http.StatusCreated, http.StatusNoContent, http.StatusOK, http.StatusAccepted); err != nil {
		return err
	}
	transport.Drain(resp)
	h := resp.Header.Get("Docker-Content-Digest")
	if h != "" {
		got, err := digest.Parse(h)
		if err == nil && got.Algorithm() == desc.Digest.Algorithm() && got != desc.Digest {
			return fmt.Errorf("upload to %s: the registry stored %s, not %s: %w", u.repo.name, got, desc.Digest, errcode.ErrDigestMismatch)
		}
	}
	if h == "" && resp.StatusCode != http.StatusCreated {
		// Not the spec's answer (201 with the digest): a front that says
		// yes without asking the registry looks just like this. Check.
		if _, err := u.repo.BlobHead(ctx, desc.Digest); err != nil {
			return fmt.Errorf("upload to %s: the commit was answered %d without a digest, and then the blob is not there (%v)", u.repo.name, resp.StatusCode, err)
		}
	}
	u.offset += n
	return nil
}

// Cancel ends the session and lets the registry drop what it received
// (DELETE on its location). Registries that already dropped it answer 404,
// which Cancel ignores. A location gone stale (distribution keeps the
// offset in it and refuses a DELETE after a request it never acknowledged,
// with 416) is refreshed with a GET and the DELETE sent again.
func (u *Upload) Cancel(ctx context.Context) error {
	err := u.delete(ctx)
	var ee *errcode.Error
	if errors.As(err, &ee) && (ee.Status == http.StatusRequestedRangeNotSatisfiable || ee.Status == http.StatusBadRequest) {
		if rerr := u.Refresh(ctx); rerr != nil {
			if errors.Is(rerr, errcode.ErrNotFound) {
				return nil
			}
			return err
		}
		err = u.delete(ctx)
	}
	return err
}

func (u *Upload) delete(ctx context.Context) error {
	resp, err := u.repo.reg.do(ctx, http.MethodDelete, u.loc, nil, nil, 0)
	if err != nil {
		return err
	}
	if err := transport.Expect(resp, http.StatusNoContent, http.StatusOK, http.StatusAccepted, http.StatusNotFound); err != nil {
		return err
	}
	transport.Drain(resp)
	return nil
}

// cancelQuietly cancels u after a failure, even when ctx is what failed.
func (u *Upload) cancelQuietly(ctx context.Context) {
	ctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer stop()
	_ = u.Cancel(ctx)
}
