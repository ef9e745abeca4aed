package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/hoist-dev/hoist/errdef"

	"github.com/hoist-dev/hoist/legacy/tarsum"
)

const (
	msgImageNotFound = "Image not found"
	msgImageExists   = "Image already exists"
	msgWrongChecksum = "Wrong checksum"
)

// imageTarget names an image for authRegistry.
func imageTarget(id string) v1Target { return v1Target{image: id} }

// getImageJSON answers GET images/ID/json for a complete image, with the
// layer size in X-Docker-Size and its payload checksum in
// X-Docker-Checksum-Payload.
func (s *V1) getImageJSON(w http.ResponseWriter, r *http.Request, id string) {
	if !s.authRegistry(w, r, imageTarget(id), false) {
		return
	}
	b, ok := s.completeImageFile(w, r, id, "json")
	if !ok {
		return
	}
	ctx := r.Context()
	if sums, err := s.store.imageChecksums(ctx, id); err == nil {
		w.Header().Set("X-Docker-Size", strconv.FormatInt(sums.Size, 10))
		if sums.Payload != "" {
			w.Header().Set("X-Docker-Checksum-Payload", sums.Payload)
		}
	}
	writeRawJSON(w, http.StatusOK, b)
}

// putImageJSON answers PUT images/ID/json: the image becomes pending, with
// this JSON, until its layer and checksums arrive. A complete image is
// answered 409 with {"error": "Image already exists"}, which the client
// takes as "skip this image".
func (s *V1) putImageJSON(w http.ResponseWriter, r *http.Request, id string) {
	if !s.authRegistry(w, r, imageTarget(id), true) {
		return
	}
	body, err := readBody(r, maxImageJSON)
	if err != nil {
		badBody(w, err)
		return
	}
	var meta struct {
		ID     string `json:"id"`
		Parent string `json:"parent"`
	}
	if err := json.Unmarshal(body, &meta); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid JSON: "+err.Error())
		return
	}
	if meta.ID != id {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("JSON data contains invalid id %q: want %q as in the URL", meta.ID, id))
		return
	}
	if meta.Parent != "" {
		if err := validImageID(meta.Parent); err != nil {
			writeError(w, http.StatusBadRequest, "Invalid parent: "+err.Error())
			return
		}
	}

	ctx := r.Context()
	if !s.lockPending(ctx, w, id) {
		return
	}
	defer s.mu.Unlock()
	ancestry := []string{id}
	if meta.Parent != "" {
		parents, err := s.store.ancestry(ctx, meta.Parent)
		if errors.Is(err, fs.ErrNotExist) {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("Image depends on a non existing parent %s: push the parent first", meta.Parent))
			return
		}
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		ancestry = append(ancestry, parents...)
	}
	if err := s.store.startPending(ctx, id, body, ancestry); err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, true)
}

// errReader remembers the error its reader returned, to tell a failing
// client from a failing disk.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// putLayer answers PUT images/ID/layer for a pending image. The body, plain
// or chunked, streams to a temporary file while its TarSum and payload
// checksum are computed; only a complete upload replaces the pending layer,
// and a failed one leaves nothing behind.
func (s *V1) putLayer(w http.ResponseWriter, r *http.Request, id string) {
	if !s.authRegistry(w, r, imageTarget(id), true) {
		return
	}
	ctx := r.Context()
	s.mu.Lock()
	complete := s.store.imageComplete(ctx, id)
	imageJSON, err := s.store.pendingJSON(ctx, id)
	s.mu.Unlock()
	switch {
	case complete:
		writeError(w, http.StatusConflict, msgImageExists)
		return
	case errors.Is(err, fs.ErrNotExist):
		writeError(w, http.StatusNotFound, "Image's JSON not found: PUT images/"+id+"/json first")
		return
	case err != nil:
		s.internalError(w, r, err)
		return
	}

	f, tmpPath, err := s.store.layerWriter(ctx)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	kept, closed := false, false
	defer func() {
		if !kept {
			if !closed {
				_ = f.Cancel(context.WithoutCancel(ctx))
			}
			_ = s.store.remove(context.WithoutCancel(ctx), tmpPath)
		}
	}()
	ts := tarsum.NewWriter()
	defer ts.Close()
	payload := tarsum.NewPayload(imageJSON)
	raw := sha256.New()
	body := &errReader{r: r.Body}
	size, err := io.Copy(io.MultiWriter(f, ts, payload, raw), body)
	if body.err != nil {
		s.cfg.logger.Info("v1 server: layer upload broke off", "image", id, "after", size, "err", body.err)
		writeError(w, http.StatusBadRequest, "Reading the layer failed: "+body.err.Error())
		return
	}
	if err == nil {
		err = f.Commit(ctx)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	closed = true
	if err != nil {
		s.internalError(w, r, fmt.Errorf("storing layer of %s: %w", id, err))
		return
	}
	sums := imageSums{Payload: payload.Sum(), Size: size, Digest: digest.NewDigest(digest.SHA256, raw).String()}
	if err := ts.Close(); err != nil {
		// Not a tar: only the payload checksum can match.
		sums.TarSumError = err.Error()
	} else if sums.TarSum, err = ts.Sum(imageJSON); err != nil {
		sums.TarSumError = err.Error()
	}

	if !s.lockPending(ctx, w, id) {
		return
	}
	defer s.mu.Unlock()
	if cur, err := s.store.pendingJSON(ctx, id); err != nil || !bytes.Equal(cur, imageJSON) {
		writeError(w, http.StatusConflict, "The image's JSON changed during the layer upload: upload the layer again")
		return
	}
	if err := s.store.setPendingLayer(ctx, id, tmpPath, sums); err != nil {
		s.internalError(w, r, err)
		return
	}
	kept = true
	writeJSON(w, http.StatusOK, true)
}

// putChecksum answers PUT images/ID/checksum: the checksums in
// X-Docker-Checksum (a TarSum, or from older clients a payload checksum) and
// X-Docker-Checksum-Payload must each match what the layer upload computed.
// Then the image is complete and visible; otherwise the answer is 400
// {"error": "Wrong checksum"} and the image stays pending.
func (s *V1) putChecksum(w http.ResponseWriter, r *http.Request, id string) {
	if !s.authRegistry(w, r, imageTarget(id), true) {
		return
	}
	sent := []string{r.Header.Get("X-Docker-Checksum"), r.Header.Get("X-Docker-Checksum-Payload")}
	if sent[0] == "" && sent[1] == "" {
		writeError(w, http.StatusBadRequest, "Missing Image's checksum: send X-Docker-Checksum and X-Docker-Checksum-Payload")
		return
	}

	ctx := r.Context()
	if !s.lockPending(ctx, w, id) {
		return
	}
	defer s.mu.Unlock()
	sums, err := s.store.pendingSums(ctx, id)
	if errors.Is(err, fs.ErrNotExist) {
		if _, jerr := s.store.pendingJSON(ctx, id); errors.Is(jerr, fs.ErrNotExist) {
			writeError(w, http.StatusNotFound, msgImageNotFound)
			return
		}
		writeError(w, http.StatusBadRequest, "Image's layer not found: PUT images/"+id+"/layer first")
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	for _, c := range sent {
		if c != "" && !sums.matches(c) {
			s.cfg.logger.Warn("v1 server: wrong checksum", "image", id, "sent", c,
				"tarsum", sums.TarSum, "tarsum_error", sums.TarSumError, "payload", sums.Payload)
			writeError(w, http.StatusBadRequest, msgWrongChecksum)
			return
		}
	}
	if err := s.store.completeImage(ctx, id, sums); err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, true)
}

// matches reports whether a checksum a client sent is one of the layer's.
func (sums imageSums) matches(c string) bool {
	switch {
	case strings.HasPrefix(c, "sha256:"):
		return c == sums.Payload
	case strings.HasPrefix(c, tarsum.Label+":"):
		return sums.TarSum != "" && c == sums.TarSum
	}
	return false
}

// getLayer answers GET and HEAD images/ID/layer for a complete image. It
// supports Range requests (Accept-Ranges: bytes, 206), which clients use to
// resume a broken download. The layer is the image's own file, or for an
// image converted from a v2 push the v2 blob it is (WithV1Blobs).
func (s *V1) getLayer(w http.ResponseWriter, r *http.Request, id string) {
	if !s.authRegistry(w, r, imageTarget(id), false) {
		return
	}
	ctx := r.Context()
	sums, err := s.store.imageChecksums(ctx, id)
	if errors.Is(err, fs.ErrNotExist) {
		writeError(w, http.StatusNotFound, msgImageNotFound)
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	open := func(offset int64) (io.ReadCloser, error) { return s.store.openLayer(ctx, id, offset) }
	if sums.Blob != "" {
		if s.cfg.blobs == nil {
			s.internalError(w, r, fmt.Errorf("image %s's layer is the blob %s, and the server has no blob store (WithV1Blobs)", id, sums.Blob))
			return
		}
		open = s.blobOpener(ctx, sums.Blob)
	}
	// Open it before answering, so a layer that is gone is a 404, not a
	// 200 cut short.
	rc, err := open(0)
	if errors.Is(err, fs.ErrNotExist) && sums.Blob == "" {
		// The layer may have just become a v2 blob (LayerIsBlob): look again.
		if again, aerr := s.store.imageChecksums(ctx, id); aerr == nil && again.Blob != "" && s.cfg.blobs != nil {
			sums = again
			open = s.blobOpener(ctx, sums.Blob)
			rc, err = open(0)
		}
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errdef.ErrNotFound) {
		writeError(w, http.StatusNotFound, "Image's layer not found: "+err.Error())
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	f := &seekableLayer{open: open, size: sums.Size, rc: rc}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", time.Time{}, f)
}

// seekableLayer gives http.ServeContent the io.ReadSeeker it wants over a
// stored layer of known size, opening it at the offset of the first read
// after each seek.
type seekableLayer struct {
	open func(offset int64) (io.ReadCloser, error)
	size int64
	off  int64
	rc   io.ReadCloser
}

func (l *seekableLayer) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += l.off
	case io.SeekEnd:
		offset += l.size
	}
	if offset < 0 {
		return 0, fmt.Errorf("seek to %d: negative offset", offset)
	}
	if offset != l.off {
		l.Close()
	}
	l.off = offset
	return offset, nil
}

func (l *seekableLayer) Read(p []byte) (int, error) {
	if l.off >= l.size {
		return 0, io.EOF
	}
	if l.rc == nil {
		rc, err := l.open(l.off)
		if err != nil {
			return 0, err
		}
		l.rc = rc
	}
	n, err := l.rc.Read(p)
	l.off += int64(n)
	return n, err
}

func (l *seekableLayer) Close() error {
	if l.rc == nil {
		return nil
	}
	err := l.rc.Close()
	l.rc = nil
	return err
}

// getAncestry answers GET images/ID/ancestry: the image and its parents,
// newest first.
func (s *V1) getAncestry(w http.ResponseWriter, r *http.Request, id string) {
	if !s.authRegistry(w, r, imageTarget(id), false) {
		return
	}
	if b, ok := s.completeImageFile(w, r, id, "ancestry"); ok {
		writeRawJSON(w, http.StatusOK, b)
	}
}

// completeImageFile returns the file name (json, ancestry) of the
// complete image id. When it returns false it has answered: 404 (Image not
// found) for an image that is not complete or not there, else 500.
func (s *V1) completeImageFile(w http.ResponseWriter, r *http.Request, id, name string) ([]byte, bool) {
	ctx := r.Context()
	if !s.store.imageComplete(ctx, id) {
		writeError(w, http.StatusNotFound, msgImageNotFound)
		return nil, false
	}
	b, err := s.store.readFile(ctx, imagePath(id, name))
	if errors.Is(err, fs.ErrNotExist) {
		writeError(w, http.StatusNotFound, msgImageNotFound)
		return nil, false
	}
	if err != nil {
		s.internalError(w, r, err)
		return nil, false
	}
	return b, true
}

// lockPending takes s.mu for a change to the pending image id and returns
// true, the caller to unlock it. An image that is complete already is not
// changed: lockPending answers 409 (Image already exists), unlocks and
// returns false.
func (s *V1) lockPending(ctx context.Context, w http.ResponseWriter, id string) bool {
	s.mu.Lock()
	if s.store.imageComplete(ctx, id) {
		s.mu.Unlock()
		writeError(w, http.StatusConflict, msgImageExists)
		return false
	}
	return true
}

// blobOpener opens the v2 blob d (WithV1Blobs) that is an image's layer.
func (s *V1) blobOpener(ctx context.Context, d string) func(offset int64) (io.ReadCloser, error) {
	return func(offset int64) (io.ReadCloser, error) {
		return s.cfg.blobs.OpenBlob(ctx, digest.Digest(d), offset)
	}
}
