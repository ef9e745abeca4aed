package serve

import (
	"errors"
	"io"
	"net/http"
	"time"
)

// stallDeadlines gives every read of a request body and every write of an
// answer d to make progress: the connection's deadline moves forward with
// each operation, so a slow but moving transfer of any size goes on, and
// one stalled for d ends. Handlers that stream need no timeout of their
// own.
func stallDeadlines(next http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		sw := &stallWriter{ResponseWriter: w, rc: rc, d: d}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &stallReader{ReadCloser: r.Body, rc: rc, d: d}
		}
		// A deadline left from the connection's last request must not cut
		// this one; the final flush after the handler gets d too.
		_ = rc.SetWriteDeadline(time.Time{})
		next.ServeHTTP(sw, r)
		_ = rc.SetWriteDeadline(time.Now().Add(d))
	})
}

type stallReader struct {
	io.ReadCloser
	rc *http.ResponseController
	d  time.Duration
}

func (s *stallReader) Read(p []byte) (int, error) {
	if err := s.rc.SetReadDeadline(time.Now().Add(s.d)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return 0, err
	}
	return s.ReadCloser.Read(p)
}

type stallWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
	d  time.Duration
}

func (s *stallWriter) Write(p []byte) (int, error) {
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.d))
	return s.ResponseWriter.Write(p)
}

// stallChunk is how much one sendfile moves between deadline updates.
const stallChunk = 4 << 20

// ReadFrom keeps the connection's sendfile path for blob answers (a blob
// file from the filesystem driver goes from the page cache to the socket)
// while still moving the deadline every stallChunk bytes.
func (s *stallWriter) ReadFrom(src io.Reader) (int64, error) {
	rf, ok := s.ResponseWriter.(io.ReaderFrom)
	if !ok {
		return io.Copy(struct{ io.Writer }{s}, src)
	}
	var total int64
	for {
		_ = s.rc.SetWriteDeadline(time.Now().Add(s.d))
		var part io.Reader
		lr, limited := src.(*io.LimitedReader)
		if limited {
			// One level of LimitedReader, which sendfile can see through.
			part = &io.LimitedReader{R: lr.R, N: min(lr.N, stallChunk)}
		} else {
			part = io.LimitReader(src, stallChunk)
		}
		n, err := rf.ReadFrom(part)
		total += n
		if limited {
			lr.N -= n
		}
		if err != nil || n < stallChunk || (limited && lr.N <= 0) {
			return total, err
		}
	}
}

func (s *stallWriter) WriteHeader(code int) {
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.d))
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (s *stallWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
