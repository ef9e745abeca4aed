package legacy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hoist-dev/hoist/errcode"
)

// Layer opens image id's layer with GET images/ID/layer, trying the
// endpoints in order until one answers 200. The bytes are the layer as
// the registry stores it (a tar, usually gzip-compressed), not verified
// here: RemoteChain.Layer checks them against the image's checksum.
//
// When the answer has "Accept-Ranges: bytes" and the layer's size is
// known (Content-Length, else sizeHint from X-Docker-Size when it is
// above 0), a download that breaks part way (a reset, an early EOF, a
// *transport.StallError) is resumed from the byte reached with
// "Range: bytes=N-" on the same endpoint, up to WithMaxResumes times.
//
// The caller must close the reader. It is not safe for concurrent use.
func (s *Session) Layer(ctx context.Context, id string, sizeHint int64) (io.ReadCloser, error) {
	if err := validID(id); err != nil {
		return nil, err
	}
	var l *resumingLayer
	err := s.try(ctx, func(ep *url.URL) error {
		open := func(off int64) (*http.Response, error) {
			var hdr http.Header
			if off > 0 {
				hdr = http.Header{"Range": {fmt.Sprintf("bytes=%d-", off)}}
			}
			return s.do(ctx, ep, http.MethodGet, "images/"+id+"/layer", hdr, nil, 0)
		}
		resp, err := open(0)
		if err != nil {
			return err
		}
		if err := expect(resp, http.StatusOK); err != nil {
			return err
		}
		size := resp.ContentLength
		if size < 0 && sizeHint > 0 {
			size = sizeHint
		}
		l = &resumingLayer{
			what:       "layer of image " + id,
			open:       open,
			ctxErr:     ctx.Err,
			size:       size,
			rangeable:  strings.Contains(strings.ToLower(resp.Header.Get("Accept-Ranges")), "bytes") && size > 0,
			maxResumes: s.c.opts.maxResumes,
			body:       resp.Body,
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("layer of image %s: %w", id, err)
	}
	return l, nil
}

// resumingLayer is the body of a layer GET that survives broken
// connections by asking for the rest with a Range request.
type resumingLayer struct {
	what       string
	open       func(off int64) (*http.Response, error)
	ctxErr     func() error
	size       int64 // -1 when unknown
	rangeable  bool
	maxResumes int

	body    io.ReadCloser
	off     int64 // bytes handed to the caller so far
	resumes int
	pending error // a read error that came with data, acted on next time
	failed  error // sticky: resuming is over
	closed  bool
}

var errReadAfterClose = errors.New("read after Close")

func (l *resumingLayer) Read(p []byte) (int, error) {
	for {
		if l.closed {
			return 0, fmt.Errorf("%s: %w", l.what, errReadAfterClose)
		}
		if l.failed != nil {
			return 0, l.failed
		}
		err := l.pending
		l.pending = nil
		if err == nil {
			var n int
			n, err = l.body.Read(p)
			l.off += int64(n)
			if err == io.EOF && l.size >= 0 && l.off < l.size {
				err = io.ErrUnexpectedEOF
			}
			if err == nil || err == io.EOF {
				return n, err
			}
			if n > 0 {
				l.pending = err
				return n, nil
			}
		}
		if l.size >= 0 && l.off >= l.size {
			// Every byte arrived before the connection went.
			return 0, io.EOF
		}
		if rerr := l.resume(err); rerr != nil {
			l.failed = rerr
			return 0, rerr
		}
	}
}

// resume replaces the broken body, spending resumes until a new one is
// lined up or the budget is gone. An HTTP error answer ends it at once.
func (l *resumingLayer) resume(cause error) error {
	l.body.Close()
	l.body = http.NoBody
	if !l.rangeable || l.maxResumes == 0 || l.ctxErr() != nil {
		return fmt.Errorf("%s: broken at byte %d: %w", l.what, l.off, cause)
	}
	for {
		if l.resumes >= l.maxResumes {
			return fmt.Errorf("%s: gave up after %d resumes at byte %d: %w", l.what, l.resumes, l.off, cause)
		}
		l.resumes++
		err := l.reopen()
		if err == nil {
			return nil
		}
		var ee *errcode.Error
		if errors.As(err, &ee) || l.ctxErr() != nil {
			return fmt.Errorf("%s: resuming at byte %d after %v: %w", l.what, l.off, cause, err)
		}
		cause = err
	}
}

// reopen asks for the layer from l.off on and lines the new body up with
// it.
func (l *resumingLayer) reopen() error {
	resp, err := l.open(l.off)
	if err != nil {
		return err
	}
	skip := int64(0)
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, err := contentRangeStart(resp.Header.Get("Content-Range"))
		if err != nil || start > l.off {
			resp.Body.Close()
			return fmt.Errorf("asked for bytes from %d, the registry sent Content-Range %q", l.off, resp.Header.Get("Content-Range"))
		}
		skip = l.off - start
	case http.StatusOK:
		// The Range was ignored and the whole layer comes again: read past
		// what the caller already has.
		skip = l.off
	default:
		return expect(resp, http.StatusPartialContent)
	}
	if _, err := io.CopyN(io.Discard, resp.Body, skip); err != nil {
		resp.Body.Close()
		return fmt.Errorf("skipping %d bytes already received: %w", skip, err)
	}
	l.body = resp.Body
	return nil
}

// contentRangeStart reads the first byte position of "bytes START-END/SIZE".
func contentRangeStart(h string) (int64, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes ")
	start, _, ok2 := strings.Cut(rest, "-")
	if !ok || !ok2 {
		return 0, fmt.Errorf("bad Content-Range %q", h)
	}
	return strconv.ParseInt(strings.TrimSpace(start), 10, 64)
}

// Close closes the current body. It is safe to call more than once.
func (l *resumingLayer) Close() error {
	if l.closed {
		return nil
	}
	l.closed = true
	return l.body.Close()
}
