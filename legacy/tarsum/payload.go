package tarsum

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

// Payload computes the v1 payload checksum of an image, sent in the
// X-Docker-Checksum-Payload header: "sha256:" followed by the lowercase hex
// SHA-256 of the image JSON, a newline, and the layer bytes exactly as they
// are sent (compressed or not). Write the layer to it, then call Sum.
//
// A Payload is not safe for concurrent use. Its zero value is not usable;
// use NewPayload.
type Payload struct {
	h hash.Hash
}

// NewPayload returns a Payload primed with imageJSON, which must be the image
// JSON byte for byte as it is sent to the registry.
func NewPayload(imageJSON []byte) *Payload {
	h := sha256.New()
	h.Write(imageJSON)
	h.Write([]byte{'\n'})
	return &Payload{h: h}
}

// Write adds layer bytes to the checksum. It never returns an error.
func (p *Payload) Write(b []byte) (int, error) {
	return p.h.Write(b)
}

// Sum returns the payload checksum of the bytes written so far. More bytes
// may be written afterwards.
func (p *Payload) Sum() string {
	return "sha256:" + hex.EncodeToString(p.h.Sum(nil))
}

// PayloadChecksum returns the payload checksum of imageJSON and the layer
// read from r until EOF. It returns an error only if reading r fails.
func PayloadChecksum(imageJSON []byte, layer io.Reader) (string, error) {
	p := NewPayload(imageJSON)
	if _, err := io.Copy(p, layer); err != nil {
		return "", fmt.Errorf("tarsum: reading layer for the payload checksum: %w", err)
	}
	return p.Sum(), nil
}
