package distribution

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/transport"
)

// PushBlob uploads desc.Size bytes read from src as blob desc. It reads src
// to the end of the blob (and one byte further, to be sure there is no
// more) and never closes it.
//
// A blob no larger than the maximum chunk size (WithMaxChunkSize; by
// default there is none) goes up in one PUT; a larger one in PATCH chunks
// of that size, or of the registry's OCI-Chunk-Min-Length when larger.
// The bytes are hashed on the way: content that does not match desc
// cancels the upload before it is committed, so nothing is left behind,
// and the error wraps errcode.ErrDigestMismatch or ErrSizeMismatch. A src
// that defers its check (content.Deferring: a blob its store checked when
// it took it in) is only counted, and the registry's check of the digest
// at the commit stands for the hash; its refusal then wraps the error
// src gave for a corrupt copy, and ErrDigestMismatch.
//
// When the connection drops (or the registry fails with 5xx or 416) and
// src is an io.Seeker, PushBlob asks the registry how much it has (GET on
// the upload), seeks src back, re-hashes up to that offset and sends the
// rest, up to WithMaxResumes times. Any other failure cancels the upload.
//
// PushBlob does not check whether the blob exists already; BlobHead does.
func (r *Repository) PushBlob(ctx context.Context, desc ocispec.Descriptor, src io.Reader) error {
	if err := content.ValidateDescriptor(desc); err != nil {
		return fmt.Errorf("push blob to %s: %w", r.name, err)
	}
	u, err := r.StartUpload(ctx)
	if err != nil {
		return err
	}
	return r.pushTo(ctx, u, desc, src)
}

// Mount makes blob desc, stored in repository from of the same registry,
// part of this repository without uploading it (POST ?mount=&from=), and
// reports whether the registry did so. A registry that cannot mount
// answers by opening an ordinary upload session instead: with a non-nil
// src, Mount then uploads src through that session as PushBlob would and
// reports false with a nil error on success; with a nil src it cancels the
// session and reports false, for the caller to push when it likes.
func (r *Repository) Mount(ctx context.Context, desc ocispec.Descriptor, from string, src io.Reader) (bool, error) {
	if err := content.ValidateDescriptor(desc); err != nil {
		return false, fmt.Errorf("mount blob into %s: %w", r.name, err)
	}
	if err := ValidateRepositoryName(from); err != nil {
		return false, fmt.Errorf("mount blob from: %w", err)
	}
	u := withQuery(withQuery(r.url("blobs", "uploads", ""), "mount", desc.Digest.String()), "from", from)
	resp, err := r.reg.do(ctx, http.MethodPost, u, nil, http.NoBody, 0)
	if err != nil {
		return false, err
	}
	if resp.StatusCode == http.StatusCreated {
		transport.Drain(resp)
		return true, nil
	}
	up, err := r.uploadFrom(resp)
	if err != nil {
		return false, err
	}
	if src == nil {
		up.cancelQuietly(ctx)
		return false, nil
	}
	return false, r.pushTo(ctx, up, desc, src)
}

// Send uploads the rest of blob desc through u and commits it: the bytes
// from u.Offset() on, read from src (all of them for a new session). It
// chunks, resumes and verifies as PushBlob does, and cancels u on a
// failure. A session that already holds a prefix (one picked up with
// ResumeUpload) cannot be hashed on the client, whose prefix is not at
// hand: only the length of what src yields is checked, the registry's
// check of the digest at the commit is the one that counts, and a failed
// request is not resumed from src (it cannot be rewound to the prefix).
func (u *Upload) Send(ctx context.Context, desc ocispec.Descriptor, src io.Reader) error {
	if err := content.ValidateDescriptor(desc); err != nil {
		return fmt.Errorf("push blob to %s: %w", u.repo.name, err)
	}
	if u.offset > desc.Size {
		return fmt.Errorf("push blob %s@%s: the upload holds %d bytes of a %d-byte blob: %w", u.repo.name, desc.Digest, u.offset, desc.Size, errcode.ErrSizeMismatch)
	}
	return u.repo.pushTo(ctx, u, desc, src)
}

// pushTo sends src through u and commits it, cancelling u on failure. A
// failure whose answer may simply have been lost (the commit went through,
// the connection did not) is checked with a HEAD of the blob: when the
// registry has it, at its size, the push succeeded.
func (r *Repository) pushTo(ctx context.Context, u *Upload, desc ocispec.Descriptor, src io.Reader) error {
	err := r.send(ctx, u, desc, src)
	if err == nil {
		return nil
	}
	var me *content.MismatchError
	if ctx.Err() == nil && !errors.As(err, &me) {
		if got, herr := r.BlobHead(ctx, desc.Digest); herr == nil && got.Size == desc.Size {
			return nil
		}
	}
	u.cancelQuietly(ctx)
	err = fmt.Errorf("push blob %s@%s: %w", r.name, desc.Digest, err)
	if errors.Is(err, errcode.ErrTooLarge) {
		// The learned chunk size did not get under the cap in time (a
		// source that cannot be rewound has one try per size).
		err = &transport.OptionHint{Err: err, Action: "send smaller chunks", Option: "distribution.WithMaxChunkSize"}
	}
	return err
}

// send moves the bytes of src (desc's from u.offset on) into u and
// commits. A refusal of the digest at the commit, of bytes whose source
// deferred their check to the registry, is reported as the source's
// corruption.
func (r *Repository) send(ctx context.Context, u *Upload, desc ocispec.Descriptor, src io.Reader) error {
	hs, err := newHashedSource(src, desc, u.offset)
	if err != nil {
		return err
	}
	err = r.sendFrom(ctx, u, desc, hs)
	if err != nil && hs.corrupt != nil && hs.mismatch == nil && errors.Is(err, errcode.ErrDigestMismatch) {
		err = fmt.Errorf("%w; the registry refused the bytes: %w", hs.corrupt, err)
	}
	return err
}

func (r *Repository) sendFrom(ctx context.Context, u *Upload, desc ocispec.Descriptor, hs *hashedSource) error {
	var err error
	resumes := 0
	chunk := r.reg.chunkSize()
	if rest := desc.Size - u.offset; chunk == 0 || rest <= chunk {
		// One PUT with the rest of the blob, which must end the source.
		err := u.put(ctx, desc, &lastBytes{h: hs, left: rest}, rest)
		if hs.mismatch != nil {
			return hs.mismatch
		}
		if err == nil {
			return nil
		}
		if r.reg.tooLarge(err, desc.Size) {
			// A proxy caps the body: go on in chunks under the cap, from
			// wherever the session stands.
			if hs.seeker == nil || errors.Is(err, errBodyInFlight) {
				return err
			}
		} else if resumes++; !r.canResume(ctx, hs, err, resumes) {
			return err
		}
		if err := hs.resume(ctx, u, err); err != nil {
			return err
		}
		chunk = max(r.reg.chunkSize(), 1)
		if r.reg.chunkSize() == 0 {
			chunk = desc.Size
		}
	}
	chunk = max(chunk, u.minChunk)
	for u.offset < desc.Size {
		n := min(chunk, desc.Size-u.offset)
		err := u.WriteChunk(ctx, hs, n)
		if hs.mismatch != nil {
			return hs.mismatch
		}
		if err == nil {
			continue
		}
		if r.reg.tooLarge(err, n) {
			if hs.seeker == nil || errors.Is(err, errBodyInFlight) {
				return err
			}
			chunk = max(r.reg.chunkSize(), u.minChunk)
		} else if resumes++; !r.canResume(ctx, hs, err, resumes) {
			return err
		}
		if err := hs.resume(ctx, u, err); err != nil {
			return err
		}
	}
	// Every byte went out; the source must end here and hash right.
	_, err = hs.Read(make([]byte, 1))
	if hs.mismatch != nil {
		return hs.mismatch
	}
	if err != io.EOF {
		return fmt.Errorf("reading the source after its last byte: %w", err)
	}
	return u.Commit(ctx, desc)
}

// canResume reports whether a failed upload request may be picked up from
// where the registry stands: the source can be rewound, the budget allows
// it, and the failure was the connection, a 5xx, a 416 (out of step) or a
// 429 whose Retry-After (waited out here) is at most maxUploadWait.
func (r *Repository) canResume(ctx context.Context, hs *hashedSource, err error, used int) bool {
	if hs.seeker == nil || used > r.reg.opts.maxResumes || r.reg.opts.maxResumes == 0 || ctx.Err() != nil || errors.Is(err, errBodyInFlight) {
		return false
	}
	var ee *errcode.Error
	if errors.As(err, &ee) {
		if ee.Status == http.StatusTooManyRequests {
			return ee.RetryAfter <= maxUploadWait && transport.Sleep(ctx, max(ee.RetryAfter, time.Second)) == nil
		}
		return ee.Status >= 500 || ee.Status == http.StatusRequestedRangeNotSatisfiable
	}
	return true
}

// maxUploadWait is the longest Retry-After an upload waits out itself.
const maxUploadWait = time.Minute

// hashedSource is the source of an upload, seen through a Verifier, with
// the mismatch (if any) kept so it can be told apart from network errors
// after net/http has wrapped or swallowed it.
type hashedSource struct {
	src      io.Reader
	seeker   io.Seeker // nil when src cannot be rewound
	desc     ocispec.Descriptor
	v        io.Reader // a *content.Verifier, or for a suffix a length cap
	mismatch error
	// corrupt, when src deferred its check to the registry
	// (content.Deferring), names src's copy of the blob as corrupt.
	corrupt error
}

// newHashedSource reads desc's bytes from offset on out of src. From the
// start they are verified; a suffix can only be counted (see lastBytes
// and send's check after the last chunk).
//
// A source that defers its check (content.Deferring: a blob its store
// checked when it took it in) is not hashed at all: the registry checks
// the digest at the commit, and only the length is counted here. Such a
// source is not rewound for a resume.
func newHashedSource(src io.Reader, desc ocispec.Descriptor, offset int64) (*hashedSource, error) {
	if offset > 0 {
		return &hashedSource{src: src, desc: desc, v: src}, nil
	}
	if d, ok := src.(content.Deferring); ok {
		if vd, ok := d.VerifiedAgainst(); ok && vd.Digest == desc.Digest && vd.Size == desc.Size {
			if dv, ok := d.DeferVerification(); ok {
				return &hashedSource{src: src, desc: desc, v: content.NewCounted(dv.R, desc), corrupt: dv.Corrupt}, nil
			}
		}
	}
	v, err := content.NewVerifier(src, desc)
	if err != nil {
		return nil, err
	}
	hs := &hashedSource{src: src, desc: desc, v: v}
	hs.seeker, _ = src.(io.Seeker)
	return hs, nil
}

// A digest mismatch shows only at the end, when the registry has had every
// byte of the right length; it is reported to net/http as io.EOF so the
// request completes and the registry refuses the digest itself, cleaning up
// as it answers. Aborting instead would leave the registry handling a cut
// request while the cancel arrives, and some (distribution) then recreate
// the session after cancelling it. A size mismatch has to abort.
func (h *hashedSource) Read(p []byte) (int, error) {
	n, err := h.v.Read(p)
	var me *content.MismatchError
	if errors.As(err, &me) {
		h.mismatch = err
		if errors.Is(err, errcode.ErrDigestMismatch) {
			return n, io.EOF
		}
	}
	return n, err
}

// lastBytes is the body of a request that sends the last left bytes of a
// blob and commits it: once they are read it makes sure the source ends
// there. One byte more is a size mismatch that aborts the request, so
// that a source longer than its descriptor commits nothing, as it does
// when the blob goes up in chunks.
type lastBytes struct {
	h    *hashedSource
	left int64
}

func (l *lastBytes) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.h.Read(p)
	l.left -= int64(n)
	if l.left > 0 || err != nil {
		return n, err
	}
	// The request's body ends here, before net/http asks again: look now.
	var one [1]byte
	if k, err := l.h.Read(one[:]); k > 0 {
		l.h.mismatch = &content.MismatchError{Want: l.h.desc, GotSize: l.h.desc.Size + 1}
		return n, l.h.mismatch
	} else if err != io.EOF {
		return n, err
	}
	return n, io.EOF
}

// resume asks the registry where u stands and lines the source up with it:
// rewind, and hash again the bytes the registry already has.
func (h *hashedSource) resume(ctx context.Context, u *Upload, cause error) error {
	if err := u.Refresh(ctx); err != nil {
		return fmt.Errorf("%w; then asking the registry how much it has failed: %w", cause, err)
	}
	if u.offset > h.desc.Size {
		return fmt.Errorf("%w; the registry then claimed %d bytes of a %d-byte blob", cause, u.offset, h.desc.Size)
	}
	if _, err := h.seeker.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("%w; rewinding the source failed: %w", cause, err)
	}
	v, err := content.NewVerifier(h.src, h.desc)
	if err != nil {
		return err
	}
	h.v, h.mismatch = v, nil
	if _, err := io.CopyN(io.Discard, h, u.offset); err != nil {
		return fmt.Errorf("re-reading the first %d bytes of the source: %w", u.offset, err)
	}
	return nil
}
