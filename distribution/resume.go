package distribution

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/hoist-dev/hoist/errcode"
)

// resumingBody is the body of a blob GET that survives dropped connections:
// on a read error it asks for the rest with a Range request. It knows
// nothing of digests; the Verifier above it checks the stream it yields.
type resumingBody struct {
	name       string
	size       int64 // -1 when unknown
	maxResumes int
	open       func(offset int64) (*http.Response, error)
	ctxErr     func() error

	body    io.ReadCloser
	off     int64 // bytes handed to the caller so far
	resumes int
	pending error // a read error that came with data, to act on next time
	failed  error // sticky: resuming is over
	closed  bool
}

// start opens the first response.
func (b *resumingBody) start() error {
	resp, err := b.open(0)
	if err != nil {
		return err
	}
	if err := expect(resp, http.StatusOK); err != nil {
		return err
	}
	if b.size >= 0 && resp.ContentLength >= 0 && resp.ContentLength != b.size {
		resp.Body.Close()
		return fmt.Errorf("%s: the registry sends %d bytes, the descriptor says %d: %w", b.name, resp.ContentLength, b.size, errcode.ErrSizeMismatch)
	}
	b.body = resp.Body
	return nil
}

func (b *resumingBody) Read(p []byte) (int, error) {
	for {
		if b.closed {
			return 0, errors.New(b.name + ": read after Close")
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
			if n > 0 {
				if err != nil && err != io.EOF {
					b.pending = err
					err = nil
				}
				return n, err
			}
			if err == nil || err == io.EOF {
				return 0, err
			}
		}
		if b.ctxErr() != nil {
			return 0, err
		}
		if b.size >= 0 && b.off >= b.size {
			// Everything arrived before the connection went; the
			// verifier decides whether it is right.
			return 0, io.EOF
		}
		if err := b.resume(err); err != nil {
			b.failed = err
			return 0, err
		}
	}
}

// resume replaces the broken body, spending resumes until a new one is
// lined up or the budget is gone. An HTTP error answer ends it at once.
func (b *resumingBody) resume(cause error) error {
	b.body.Close()
	for {
		if b.resumes >= b.maxResumes {
			if b.maxResumes == 0 {
				return cause
			}
			return fmt.Errorf("%s: gave up after %d resumes at byte %d: %w", b.name, b.resumes, b.off, cause)
		}
		b.resumes++
		err := b.reopen()
		if err == nil {
			return nil
		}
		var ee *errcode.Error
		if errors.As(err, &ee) || b.ctxErr() != nil {
			return fmt.Errorf("%s: resuming at byte %d after %v: %w", b.name, b.off, cause, err)
		}
		cause = err
	}
}

// reopen asks for the blob from b.off on and lines the new body up with it.
func (b *resumingBody) reopen() error {
	b.body = http.NoBody
	resp, err := b.open(b.off)
	if err != nil {
		return err
	}
	skip := int64(0)
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, err := contentRangeStart(resp.Header.Get("Content-Range"))
		if err != nil || start > b.off {
			resp.Body.Close()
			return fmt.Errorf("asked for bytes from %d, the registry sent Content-Range %q", b.off, resp.Header.Get("Content-Range"))
		}
		skip = b.off - start
	case http.StatusOK:
		// The server ignored Range and sends the whole blob again. The
		// caller already has the first b.off bytes and they were hashed, so
		// read past them here; the digest check at EOF still covers exactly
		// the bytes the caller received.
		skip = b.off
	default:
		return expect(resp, http.StatusPartialContent)
	}
	if _, err := io.CopyN(io.Discard, resp.Body, skip); err != nil {
		resp.Body.Close()
		return fmt.Errorf("skipping %d bytes already received: %w", skip, err)
	}
	b.body = resp.Body
	return nil
}

// contentRangeStart reads the first byte position of "bytes START-END/SIZE".
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

func (b *resumingBody) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	return b.body.Close()
}
