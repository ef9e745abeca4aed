package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/hoist-dev/hoist/errcode"
)

// Resumable describes a GET whose answer can be asked for again from a
// byte offset with "Range: bytes=N-": a blob, a v1 layer.
type Resumable struct {
	// Name names the resource in errors, e.g. "blob library/alpine@sha256:…".
	Name string
	// Size is the resource's length in bytes, or -1 when unknown. When it
	// is known, a body that ends before Size bytes counts as broken and is
	// resumed, and one that breaks after Size bytes counts as complete.
	Size int64
	// MaxResumes bounds how many times one body is asked for again after
	// it broke. 0 (or less) disables resuming.
	MaxResumes int
	// Open sends the GET and returns the answer whatever its status. For
	// offset 0 it asks for the whole resource; for offset > 0 it must ask
	// with "Range: bytes=OFFSET-". OpenResumingBody and Read call it, one
	// call at a time; it should use the context given to OpenResumingBody
	// or NewResumingBody.
	Open func(offset int64) (*http.Response, error)
}

// ResumingBody is the body of a GET that survives dropped connections.
// When a read fails part way (a reset, an unexpected EOF, a *StallError
// from the stall guard), it calls Open again from the byte reached and
// carries on, so the caller sees one unbroken stream:
//
//   - a 206 answer whose Content-Range starts at or before that byte is
//     accepted, the bytes before it are skipped;
//   - a 200 answer (the server ignored Range) is accepted, and the bytes
//     the caller already has are read and dropped;
//   - any other status ends the body at once with the answer's
//     *errcode.Error, as does the end of the context;
//   - after Resumable.MaxResumes attempts it gives up with an error that
//     names the byte reached and wraps the last failure.
//
// A failure is sticky: every later Read returns it. ResumingBody knows
// nothing of digests; a reader above it (content.Verifier, a v1 checksum)
// checks the bytes it yields. It is not safe for concurrent use, and the
// caller must Close it.
type ResumingBody struct {
	src    Resumable
	ctxErr func() error

	body    io.ReadCloser
	off     int64 // bytes handed to the caller so far
	resumes int
	// timeouts counts the timeouts (stalls, too slow) in a row, that is
	// with less than timeoutProgress bytes between them; at
	// maxBodyTimeouts the body gives up whatever resumes are left.
	timeouts   int
	timeoutOff int64
	pending    error // a read error that came with data, acted on next time
	failed     error // sticky: resuming is over
	closed     bool
}

// OpenResumingBody opens src from byte offset on (0 for all of it).
//
// For offset 0 the answer must be 200, else the error is its
// *errcode.Error; when src.Size is known and the answer's Content-Length
// differs, it fails with a wrapped errcode.ErrSizeMismatch before a byte is
// read. For offset > 0 the answer is lined up with offset as on a resume
// (206 from at or before offset, or 200 with the first offset bytes
// skipped); this opening is not counted against src.MaxResumes. An offset
// equal to a known src.Size sends no request and yields an empty body. An
// offset below 0 or beyond a known src.Size is an error.
//
// ctx bounds the body's life: once it ends, a broken read is not resumed.
func OpenResumingBody(ctx context.Context, src Resumable, offset int64) (*ResumingBody, error) {
	if offset < 0 || (src.Size >= 0 && offset > src.Size) {
		return nil, fmt.Errorf("%s: offset %d is outside its %d bytes", src.Name, offset, src.Size)
	}
	b := &ResumingBody{src: src, ctxErr: ctx.Err, body: http.NoBody, off: offset}
	if offset > 0 && offset == src.Size {
		return b, nil // nothing is left; asking would only draw a 416
	}
	if offset > 0 {
		if err := b.reopen(); err != nil {
			return nil, fmt.Errorf("%s: opening at byte %d: %w", src.Name, offset, err)
		}
		return b, nil
	}
	resp, err := src.Open(0)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errcode.FromResponse(resp)
	}
	if src.Size >= 0 && resp.ContentLength >= 0 && resp.ContentLength != src.Size {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: the server sends %d bytes, %d expected: %w", src.Name, resp.ContentLength, src.Size, errcode.ErrSizeMismatch)
	}
	b.body = resp.Body
	return b, nil
}

// NewResumingBody returns a ResumingBody that reads first, the body of a
// 200 answer to src.Open(0) that the caller has already checked (for a
// caller that must see the first answer's headers to choose src.Size or
// src.MaxResumes). It takes over first: closing the ResumingBody closes
// it. ctx is as for OpenResumingBody.
func NewResumingBody(ctx context.Context, src Resumable, first io.ReadCloser) *ResumingBody {
	return &ResumingBody{src: src, ctxErr: ctx.Err, body: first}
}

// Read reads the next bytes of the resource, resuming as the type's
// documentation says. It returns io.EOF at the end of the resource.
func (b *ResumingBody) Read(p []byte) (int, error) {
	for {
		if b.closed {
			return 0, fmt.Errorf("%s: %w", b.src.Name, http.ErrBodyReadAfterClose)
		}
		if b.failed != nil {
			return 0, b.failed
		}
		err := b.pending
		b.pending = nil
		if err == nil {
			var n int
			n, err = b.body.Read(p)
			b.off += int64(n)
			if err == io.EOF && b.src.Size >= 0 && b.off < b.src.Size {
				err = io.ErrUnexpectedEOF
			}
			if err == nil || err == io.EOF {
				return n, err
			}
			if n > 0 {
				b.pending = err
				return n, nil
			}
		}
		if b.src.Size >= 0 && b.off >= b.src.Size {
			// Every byte arrived before the connection went; the
			// reader above decides whether they are right.
			return 0, io.EOF
		}
		if rerr := b.resume(err); rerr != nil {
			b.failed = rerr
			return 0, rerr
		}
	}
}

// A body that times out (stalls, or drips below the minimum throughput)
// maxBodyTimeouts times with less than timeoutProgress bytes in between
// gives up: a server that does that will not do better on the next try.
const (
	maxBodyTimeouts = 2
	timeoutProgress = 1 << 20
)

// resume replaces the broken body, spending resumes until a new one is
// lined up or the budget is gone. An HTTP error answer ends it at once.
func (b *ResumingBody) resume(cause error) error {
	b.body.Close()
	b.body = http.NoBody
	if b.src.MaxResumes <= 0 || b.ctxErr() != nil {
		return fmt.Errorf("%s: broken at byte %d: %w", b.src.Name, b.off, cause)
	}
	if isTimeout(cause) {
		if b.timeouts > 0 && b.off-b.timeoutOff < timeoutProgress {
			b.timeouts++
		} else {
			b.timeouts = 1
		}
		b.timeoutOff = b.off
		if b.timeouts >= maxBodyTimeouts {
			return fmt.Errorf("%s: gave up at byte %d after %d timeouts in a row: %w", b.src.Name, b.off, b.timeouts, repeated{cause})
		}
	}
	for {
		if b.resumes >= b.src.MaxResumes {
			return fmt.Errorf("%s: gave up after %d resumes at byte %d: %w", b.src.Name, b.resumes, b.off, cause)
		}
		b.resumes++
		err := b.reopen()
		if err == nil {
			return nil
		}
		var ee *errcode.Error
		if errors.As(err, &ee) || b.ctxErr() != nil || errors.Is(err, ErrRepeatedTimeouts) {
			// The retrier below already tried a timed-out opening again.
			return fmt.Errorf("%s: resuming at byte %d after %v: %w", b.src.Name, b.off, cause, err)
		}
		if isTimeout(err) {
			// Lining the new body up timed out (skipping what a server
			// that ignores Range sends again, say): no progress either.
			if b.timeouts++; b.timeouts >= maxBodyTimeouts {
				return fmt.Errorf("%s: gave up at byte %d after %d timeouts in a row: %w", b.src.Name, b.off, b.timeouts, repeated{err})
			}
		}
		cause = err
	}
}

// reopen asks for the resource from b.off on and lines the new body up
// with it.
func (b *ResumingBody) reopen() error {
	resp, err := b.src.Open(b.off)
	if err != nil {
		return err
	}
	skip := int64(0)
	switch resp.StatusCode {
	case http.StatusPartialContent:
		cr := resp.Header.Get("Content-Range")
		start, err := contentRangeStart(cr)
		if err != nil || start > b.off {
			resp.Body.Close()
			return fmt.Errorf("asked for bytes from %d, the server sent Content-Range %q", b.off, cr)
		}
		skip = b.off - start
	case http.StatusOK:
		// The server ignored Range and sends everything again. The caller
		// already has the first b.off bytes (a digest above may have
		// hashed them), so read past them here.
		skip = b.off
	default:
		return errcode.FromResponse(resp)
	}
	if _, err := io.CopyN(io.Discard, resp.Body, skip); err != nil {
		resp.Body.Close()
		return fmt.Errorf("skipping %d bytes already received: %w", skip, err)
	}
	b.body = resp.Body
	return nil
}

// contentRangeStart reads the first byte position of "bytes START-END/SIZE"
// (some servers write "bytes=START-END/SIZE").
func contentRangeStart(h string) (int64, error) {
	h = strings.TrimSpace(h)
	rest, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		rest, ok = strings.CutPrefix(h, "bytes=")
	}
	start, _, ok2 := strings.Cut(rest, "-")
	if !ok || !ok2 {
		return 0, fmt.Errorf("bad Content-Range %q", h)
	}
	return strconv.ParseInt(strings.TrimSpace(start), 10, 64)
}

// Close closes the current body. It is safe to call more than once; Read
// fails after it.
func (b *ResumingBody) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	return b.body.Close()
}
