package legacy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/hoist-dev/hoist/transport"

	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/legacy/tarsum"
)

// Checksums are what a push sends in PUT images/ID/checksum, computed
// while the layer streams to the registry.
type Checksums struct {
	// TarSum is the layer's TarSum v0 with the image JSON as extra payload
	// ("tarsum+sha256:..."), sent in X-Docker-Checksum.
	TarSum string
	// Payload is "sha256:" and the hex SHA-256 of the image JSON, a
	// newline and the layer bytes as sent, sent in
	// X-Docker-Checksum-Payload.
	Payload string
	// Size is the number of layer bytes sent.
	Size int64
}

// Messages of the v1 registry that the client acts on.
const (
	msgImageExists   = "Image already exists"
	msgWrongChecksum = "Wrong checksum"
)

// PutImageJSON starts the upload of image id to the registry endpoint ep
// with PUT images/ID/json. When the registry already has the image it
// returns an error wrapping ErrImageExists: skip the image. A 401 over
// plain http is an error that says hoist does not send credentials in
// clear.
func (s *Session) PutImageJSON(ctx context.Context, ep *url.URL, id string, imgJSON []byte) error {
	if err := validID(id); err != nil {
		return err
	}
	hdr := http.Header{"Content-Type": {"application/json"}}
	resp, err := s.do(ctx, ep, http.MethodPut, "images/"+id+"/json", hdr, bytes.NewReader(imgJSON), int64(len(imgJSON)))
	if err != nil {
		return fmt.Errorf("image %s: %w", id, err)
	}
	if resp.StatusCode == http.StatusOK {
		transport.Drain(resp)
		return nil
	}
	body := readErrorBody(resp)
	if registryMessage(body) == msgImageExists {
		return fmt.Errorf("image %s on %s: %w", id, ep.Host, ErrImageExists)
	}
	rerr := errorFromBody(resp, body)
	if resp.StatusCode == http.StatusUnauthorized && resp.TLS == nil {
		return fmt.Errorf("image %s: %s asks for credentials over plain http, and hoist does not send them in clear; use https: %w", id, ep.Host, rerr)
	}
	return fmt.Errorf("image %s: %w", id, rerr)
}

// PutLayer uploads image id's layer, read from layer until EOF, to the
// endpoint ep with PUT images/ID/layer, as a body of unknown length
// (chunked transfer encoding). The layer is read once: its bytes are
// teed into the TarSum and payload checksums on their way out, and those
// are returned for PutChecksum. imgJSON must be the JSON sent with
// PutImageJSON, byte for byte. PutLayer does not close layer, and nothing
// reads it any more once PutLayer has returned.
func (s *Session) PutLayer(ctx context.Context, ep *url.URL, id string, imgJSON []byte, layer io.Reader) (Checksums, error) {
	if err := validID(id); err != nil {
		return Checksums{}, err
	}
	ts := tarsum.NewWriter()
	payload := tarsum.NewPayload(imgJSON)
	body := &teeBody{src: layer, sink: io.MultiWriter(ts, payload)}
	hdr := http.Header{"Content-Type": {"application/octet-stream"}}
	resp, err := s.do(ctx, ep, http.MethodPut, "images/"+id+"/layer", hdr, body, -1)
	if err == nil {
		err = transport.Expect(resp, http.StatusOK)
	}
	if err != nil {
		// The transport may go on reading the body after it answers;
		// sealing waits for a read in progress and stops the rest, so the
		// caller may close layer once PutLayer returns.
		body.seal()
		ts.Close()
		if serr := body.sourceErr(); serr != nil {
			return Checksums{}, fmt.Errorf("layer of image %s: reading it: %w", id, serr)
		}
		return Checksums{}, fmt.Errorf("layer of image %s: %w", id, err)
	}
	transport.Drain(resp)
	n, eof := body.seal()
	if !eof {
		ts.Close()
		return Checksums{}, fmt.Errorf("layer of image %s: %s answered after %d bytes, before the whole layer was sent", id, ep.Host, n)
	}
	if err := ts.Close(); err != nil {
		return Checksums{}, fmt.Errorf("layer of image %s is not a tar archive (plain or gzip): %w", id, err)
	}
	sum, err := ts.Sum(imgJSON)
	if err != nil {
		return Checksums{}, fmt.Errorf("layer of image %s: %w", id, err)
	}
	return Checksums{TarSum: sum, Payload: payload.Sum(), Size: n}, nil
}

// PutChecksum completes image id on the endpoint ep with PUT
// images/ID/checksum, sending sums.TarSum in X-Docker-Checksum and
// sums.Payload in X-Docker-Checksum-Payload. A registry that finds them
// wrong answers 400 "Wrong checksum"; the error then wraps
// errcode.ErrDigestMismatch.
func (s *Session) PutChecksum(ctx context.Context, ep *url.URL, id string, sums Checksums) error {
	if err := validID(id); err != nil {
		return err
	}
	hdr := http.Header{}
	if sums.TarSum != "" {
		hdr.Set("X-Docker-Checksum", sums.TarSum)
	}
	if sums.Payload != "" {
		hdr.Set("X-Docker-Checksum-Payload", sums.Payload)
	}
	resp, err := s.do(ctx, ep, http.MethodPut, "images/"+id+"/checksum", hdr, nil, 0)
	if err != nil {
		return fmt.Errorf("checksum of image %s: %w", id, err)
	}
	if resp.StatusCode == http.StatusOK {
		transport.Drain(resp)
		return nil
	}
	body := readErrorBody(resp)
	rerr := errorFromBody(resp, body)
	if resp.StatusCode == http.StatusBadRequest && registryMessage(body) == msgWrongChecksum {
		return fmt.Errorf("image %s: %s rejected its checksums: %w: %w", id, ep.Host, errcode.ErrDigestMismatch, rerr)
	}
	return fmt.Errorf("checksum of image %s: %w", id, rerr)
}

// PutTag makes tag in name point at image id on the endpoint ep, with PUT
// repositories/NAME/tags/TAG and the body "id" (a JSON string).
func (s *Session) PutTag(ctx context.Context, ep *url.URL, name, tag, id string) error {
	remote, err := remoteTag(name, tag)
	if err != nil {
		return err
	}
	if err := validID(id); err != nil {
		return err
	}
	body, _ := json.Marshal(id)
	hdr := http.Header{"Content-Type": {"application/json"}}
	resp, err := s.do(ctx, ep, http.MethodPut, "repositories/"+remote+"/tags/"+tag, hdr, bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return fmt.Errorf("tag %s of %s: %w", tag, remote, err)
	}
	defer transport.Drain(resp)
	if err := transport.Expect(resp, http.StatusOK, http.StatusCreated); err != nil {
		return fmt.Errorf("tag %s of %s: %w", tag, remote, err)
	}
	return nil
}

// readErrorBody reads at most errcode.MaxBody bytes of an error answer
// and closes it.
func readErrorBody(resp *http.Response) []byte {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, errcode.MaxBody))
	resp.Body.Close()
	return b
}

// registryMessage returns the "error" of a v1 JSON error body, or the
// body itself when it is a JSON string; "" otherwise.
func registryMessage(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}
	var s string
	if json.Unmarshal(body, &s) == nil {
		return s
	}
	return ""
}

// teeBody is a request body that copies what the transport reads into
// sink. seal ends its use: later reads fail, so the caller may use what
// sink computed without racing a transport goroutine still holding the
// body.
type teeBody struct {
	mu     sync.Mutex
	src    io.Reader
	sink   io.Writer
	n      int64
	eof    bool
	sealed bool

	errMu sync.Mutex
	err   error // the source's read error
}

var errSealed = errors.New("layer body used after the request ended")

func (b *teeBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sealed {
		return 0, errSealed
	}
	n, err := b.src.Read(p)
	if n > 0 {
		b.sink.Write(p[:n])
		b.n += int64(n)
	}
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		b.errMu.Lock()
		b.err = err
		b.errMu.Unlock()
	}
	return n, err
}

// Close does nothing: the caller owns the source.
func (b *teeBody) Close() error { return nil }

// seal waits for a read in progress, stops further reads, and returns
// how many bytes went out and whether the source reached EOF.
func (b *teeBody) seal() (int64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sealed = true
	return b.n, b.eof
}

// sourceErr returns the error the source's Read returned, if any.
func (b *teeBody) sourceErr() error {
	b.errMu.Lock()
	defer b.errMu.Unlock()
	return b.err
}
