package content

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	digest "github.com/opencontainers/go-digest"
)

// Schema1 is a Docker image manifest, schema version 1: the legacy format
// registries still serve for very old images. hoist reads it (to inspect
// and to convert) but never writes it.
type Schema1 struct {
	SchemaVersion int    `json:"schemaVersion"`
	Name          string `json:"name"`
	Tag           string `json:"tag"`
	Architecture  string `json:"architecture"`
	// FSLayers lists layer blobs, newest first.
	FSLayers []Schema1Layer `json:"fsLayers"`
	// History holds one v1 image JSON per entry of FSLayers, in the same order.
	History []Schema1History `json:"history"`
}

// Schema1Layer names one layer blob of a schema 1 manifest.
type Schema1Layer struct {
	BlobSum digest.Digest `json:"blobSum"`
}

// Schema1History carries the v1 image JSON of one layer.
type Schema1History struct {
	V1Compatibility string `json:"v1Compatibility"`
}

func (m *Manifest) decodeLegacy(p *probe) error {
	if isNull(p.FSLayers) {
		return fmt.Errorf("it has no fsLayers")
	}
	var s Schema1
	if err := json.Unmarshal(m.Raw, &s); err != nil {
		return err
	}
	if s.SchemaVersion != 1 {
		return fmt.Errorf("schemaVersion is %d, want 1", s.SchemaVersion)
	}
	for i, l := range s.FSLayers {
		if err := l.BlobSum.Validate(); err != nil {
			return fmt.Errorf("fsLayers %d: blobSum %q: %w", i, l.BlobSum, err)
		}
	}
	m.Legacy = &s
	return nil
}

// Schema1Payload returns the JWS payload of a signed schema 1 manifest: the
// bytes the signatures cover, which is the manifest without its
// "signatures" member. The first signature's protected header says how:
// formatLength bytes of raw, then the base64url formatTail. Registries of
// the schema 1 era named signed manifests by the digest of this payload.
func Schema1Payload(raw []byte) ([]byte, error) {
	var doc struct {
		Signatures []struct {
			Protected string `json:"protected"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	if len(doc.Signatures) == 0 {
		return nil, fmt.Errorf("schema 1 manifest has no signatures")
	}
	hdr, err := base64.RawURLEncoding.DecodeString(trimPad(doc.Signatures[0].Protected))
	if err != nil {
		return nil, fmt.Errorf("schema 1 protected header: %w", err)
	}
	var ph struct {
		FormatLength int    `json:"formatLength"`
		FormatTail   string `json:"formatTail"`
	}
	if err := json.Unmarshal(hdr, &ph); err != nil {
		return nil, fmt.Errorf("schema 1 protected header: %w", err)
	}
	tail, err := base64.RawURLEncoding.DecodeString(trimPad(ph.FormatTail))
	if err != nil {
		return nil, fmt.Errorf("schema 1 formatTail: %w", err)
	}
	if ph.FormatLength < 0 || ph.FormatLength > len(raw) {
		return nil, fmt.Errorf("schema 1 formatLength %d is outside the %d-byte manifest", ph.FormatLength, len(raw))
	}
	out := make([]byte, 0, ph.FormatLength+len(tail))
	return append(append(out, raw[:ph.FormatLength]...), tail...), nil
}

func trimPad(s string) string {
	for len(s) > 0 && s[len(s)-1] == '=' {
		s = s[:len(s)-1]
	}
	return s
}
