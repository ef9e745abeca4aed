package tarsum

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
)

// Label names the checksum algorithm; every sum this package returns starts
// with Label followed by a colon.
const Label = "tarsum+sha256"

// errNotClosed is returned by Sum before Close.
var errNotClosed = errors.New("tarsum: Sum called before Close; call Close first")

// errWriteAfterClose is returned by Write after Close.
var errWriteAfterClose = errors.New("tarsum: write after Close")

// gzipMagic starts every gzip stream that uses deflate, the only method gzip
// defines.
var gzipMagic = []byte{0x1f, 0x8b, 0x08}

// Writer computes the TarSum (version 0) of a layer written to it: a tar
// archive, plain or gzip-compressed, as it is sent to the registry. The
// compression is detected from the first bytes.
//
// Parsing runs in a goroutine that NewWriter starts and Close ends, so Close
// must always be called, also when the caller gives up on the layer halfway;
// an abandoned Writer keeps its goroutine blocked forever.
//
// A parse error does not make Write fail: the rest of the stream is consumed
// and discarded, so that a Writer teed with the upload (io.MultiWriter) never
// cuts the upload short. Close and Sum report the error.
//
// A Writer is not safe for concurrent use. Its zero value is not usable; use
// NewWriter.
type Writer struct {
	pw     *io.PipeWriter
	done   chan struct{} // closed when the parser goroutine has ended
	closed bool

	// Written by the parser goroutine before it closes done.
	sums []string // sorted hex digests, one per entry
	err  error    // why the stream is not a valid tar, or nil
}

// NewWriter returns a Writer ready for the first byte of a layer, and starts
// its parser goroutine. The caller must call Close.
func NewWriter() *Writer {
	pr, pw := io.Pipe()
	w := &Writer{pw: pw, done: make(chan struct{})}
	go w.parse(pr)
	return w
}

// Write feeds the next bytes of the layer to the parser. It returns an error
// only after Close; errors in the layer itself are reported by Close.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errWriteAfterClose
	}
	return w.pw.Write(p)
}

// Close marks the end of the layer, waits for the parser to finish, and
// returns an error if the bytes written were not a valid, possibly
// gzip-compressed, tar archive. Close may be called more than once; every
// call returns the same result.
func (w *Writer) Close() error {
	if !w.closed {
		w.closed = true
		_ = w.pw.Close() // always nil for a PipeWriter
		<-w.done
	}
	return w.err
}

// Sum returns the TarSum of the layer with extra hashed in front of the
// entry digests, as "tarsum+sha256:" and 64 lowercase hex digits. For a v1
// push, extra is the image JSON exactly as it is sent; nil and an empty slice
// give the same result. Sum may only be called after Close, and returns
// Close's error if the layer was not a valid tar. It does not modify the
// Writer, so it may be called any number of times.
func (w *Writer) Sum(extra []byte) (string, error) {
	if !w.closed {
		return "", errNotClosed
	}
	if w.err != nil {
		return "", w.err
	}
	return finalSum(w.sums, extra), nil
}

// FromReader returns the TarSum of the layer read from r until EOF, with
// extra hashed in front as described at Writer.Sum. It returns an error if
// reading r fails or the layer is not a valid, possibly gzip-compressed, tar.
func FromReader(r io.Reader, extra []byte) (string, error) {
	w := NewWriter()
	if _, err := io.Copy(w, r); err != nil {
		_ = w.Close() // the read error is the one that matters
		return "", fmt.Errorf("tarsum: reading layer: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return w.Sum(extra)
}

// parse runs in the Writer's goroutine: it computes the entry digests, then
// consumes whatever is left so that Write never blocks or fails, and signals
// Close by closing done.
func (w *Writer) parse(pr *io.PipeReader) {
	defer close(w.done)
	sums, err := entrySums(pr)
	if err == nil {
		slices.Sort(sums)
	}
	w.sums, w.err = sums, err
	_, _ = io.Copy(io.Discard, pr) // ends when Close closes the pipe
}

// finalSum hashes extra and then the sorted entry digests.
func finalSum(sorted []string, extra []byte) string {
	h := sha256.New()
	h.Write(extra)
	for _, s := range sorted {
		io.WriteString(h, s)
	}
	return Label + ":" + hex.EncodeToString(h.Sum(nil))
}

// entrySums reads a plain or gzip-compressed tar from r and returns the hex
// digest of every entry, in archive order.
func entrySums(r io.Reader) ([]string, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		src io.Reader = br
		zr  *gzip.Reader
	)
	if magic, _ := br.Peek(len(gzipMagic)); bytes.Equal(magic, gzipMagic) {
		var err error
		if zr, err = gzip.NewReader(br); err != nil {
			return nil, fmt.Errorf("tarsum: layer starts like gzip but is not: %w", err)
		}
		src = zr
	}

	rec := &blockRecorder{r: src}
	tr := tar.NewReader(rec)
	h := sha256.New()
	buf := make([]byte, 32<<10)
	var sums []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		// ErrInsecurePath still comes with a usable header: names are hashed,
		// never used as paths.
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return nil, fmt.Errorf("tarsum: layer is not a valid tar: reading header after %d entries: %w", len(sums), err)
		}
		sum, err := entrySum(h, hdr, rec.typeflag(hdr), tr, buf)
		if err != nil {
			return nil, fmt.Errorf("tarsum: layer is not a valid tar: reading entry %q: %w", hdr.Name, err)
		}
		sums = append(sums, sum)
	}
	if zr != nil {
		// Read to the end of the gzip stream so that its CRC and length are
		// checked: a corrupt layer must not pass.
		if _, err := io.CopyBuffer(io.Discard, zr, buf); err != nil {
			return nil, fmt.Errorf("tarsum: layer is not valid gzip after the end of the tar: %w", err)
		}
	}
	return sums, nil
}

// entrySum returns the hex digest of one entry: its header fields, then its
// body read from body.
func entrySum(h hash.Hash, hdr *tar.Header, typeflag byte, body io.Reader, buf []byte) (string, error) {
	h.Reset()
	h.Write(appendHeader(buf[:0], hdr, typeflag))
	if _, err := io.CopyBuffer(h, body, buf); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
