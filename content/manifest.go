package content

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/errcode"
)

// DefaultMaxManifestSize is the cap ReadManifest callers use unless told
// otherwise: 4 MiB, the size the distribution spec says registries and
// clients should at least support.
const DefaultMaxManifestSize = 4 << 20

// Manifest is a decoded manifest of any kind, together with the exact bytes
// it was decoded from. Raw is what gets stored, copied and hashed; the
// parsed fields are for reading only and are never serialised back.
//
// Exactly one of Image, Index and Legacy is set, as Kind says. A Manifest
// is not modified by this package after Decode returns it.
type Manifest struct {
	// Descriptor describes Raw: its media type (from the manifest's own
	// mediaType field, else the Content-Type it came with, else its shape),
	// its sha256 digest and its length. Callers that fetched by a digest of
	// another algorithm replace Digest after Verify.
	Descriptor ocispec.Descriptor
	// Raw is the manifest exactly as received.
	Raw []byte
	// Kind says which of the fields below is set.
	Kind Kind
	// Image is set for an OCI image manifest or a Docker schema 2 manifest.
	Image *ocispec.Manifest
	// Index is set for an OCI index or a Docker manifest list.
	Index *ocispec.Index
	// Legacy is set for Docker schema 1.
	Legacy *Schema1
}

// probe is the part of every manifest kind needed to tell them apart.
type probe struct {
	SchemaVersion *int            `json:"schemaVersion"`
	MediaType     string          `json:"mediaType"`
	Config        json.RawMessage `json:"config"`
	Layers        json.RawMessage `json:"layers"`
	Manifests     json.RawMessage `json:"manifests"`
	FSLayers      json.RawMessage `json:"fsLayers"`
	Signatures    json.RawMessage `json:"signatures"`
}

// Decode parses raw as a manifest. The kind comes from the manifest's
// mediaType field when it has one (the bytes are what the digest covers, so
// they win over a header), else from contentType (the response's
// Content-Type, parameters allowed), else from the document's shape.
// Decode keeps raw itself, not a copy, in the result; the caller must not
// modify it afterwards.
//
// The result is validated: schemaVersion 2 (1 for legacy), and every
// descriptor it holds has a well-formed digest and a non-negative size. A
// document with the members of two kinds ("manifests" beside "layers" or
// "config", or "fsLayers" beside either) is refused whatever its media
// type says, since clients that go by the members would read it as
// another kind than clients that go by the type.
// A manifest type hoist does not know is an error wrapping
// errcode.ErrUnsupported.
func Decode(contentType string, raw []byte) (*Manifest, error) {
	var p probe
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("manifest is not a JSON object: %w", err)
	}
	if err := checkShape(raw); err != nil {
		return nil, err
	}
	mt := p.MediaType
	if mt == "" {
		if ct := BaseType(contentType); KindOf(ct) != KindUnknown {
			mt = ct
		} else {
			mt = guessMediaType(&p)
		}
	}
	if mt == "" {
		return nil, fmt.Errorf("%w: cannot tell what kind of manifest this is: it has no mediaType field and the Content-Type %q is not a manifest type", errcode.ErrUnsupported, contentType)
	}
	m := &Manifest{Raw: raw, Kind: KindOf(mt)}
	m.Descriptor = ocispec.Descriptor{MediaType: BaseType(mt), Digest: digest.FromBytes(raw), Size: int64(len(raw))}
	var err error
	switch m.Kind {
	case KindImage:
		err = m.decodeImage(&p)
	case KindIndex:
		err = m.decodeIndex(&p)
	case KindLegacy:
		err = m.decodeLegacy(&p)
	default:
		return nil, fmt.Errorf("%w: manifest media type %q", errcode.ErrUnsupported, mt)
	}
	if err != nil {
		return nil, fmt.Errorf("invalid %s manifest (%s): %w", m.Kind, m.Descriptor.MediaType, err)
	}
	return m, nil
}

// shapeMembers are the top-level members that make a document one kind
// of manifest, by kind.
var shapeMembers = []struct {
	kind    Kind
	members []string
}{
	{KindIndex, []string{"manifests"}},
	{KindImage, []string{"config", "layers"}},
	{KindLegacy, []string{"fsLayers"}},
}

// checkShape refuses a document whose top-level members belong to more
// than one kind of manifest. A member counts when it is not null, under
// any spelling of its name: encoding/json matches names without regard to
// case, and a parser that does not would see the other spelling.
func checkShape(raw []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return fmt.Errorf("manifest is not a JSON object: %w", err)
	}
	var found []string
	for _, s := range shapeMembers {
		for _, name := range s.members {
			if member := presentMember(top, name); member != "" {
				found = append(found, fmt.Sprintf("%q (%s)", member, s.kind))
				break
			}
		}
	}
	if kinds := len(found); kinds > 1 {
		return fmt.Errorf("manifest has the members of %d kinds, %s: refusing a document that clients may read as different kinds", kinds, strings.Join(found, " and "))
	}
	return nil
}

// presentMember returns the first key of top, in sorted order, that spells
// name in any case and is not null, or "".
func presentMember(top map[string]json.RawMessage, name string) string {
	var keys []string
	for k, v := range top {
		if strings.EqualFold(k, name) && !isNull(v) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	slices.Sort(keys)
	return keys[0]
}

func guessMediaType(p *probe) string {
	switch {
	case p.SchemaVersion != nil && *p.SchemaVersion == 1 && len(p.FSLayers) > 0:
		if len(p.Signatures) > 0 {
			return MediaTypeDockerSchema1Signed
		}
		return MediaTypeDockerSchema1
	case len(p.Manifests) > 0 && len(p.Config) == 0:
		return MediaTypeOCIIndex
	case len(p.Config) > 0:
		return MediaTypeOCIManifest
	}
	return ""
}

func (m *Manifest) decodeImage(p *probe) error {
	if isNull(p.Config) {
		return fmt.Errorf("it has no config")
	}
	if err := checkDescriptors(p.Layers, "layer"); err != nil {
		return err
	}
	var im ocispec.Manifest
	if err := json.Unmarshal(m.Raw, &im); err != nil {
		return err
	}
	if im.SchemaVersion != 2 {
		return fmt.Errorf("schemaVersion is %d, want 2", im.SchemaVersion)
	}
	if err := ValidateDescriptor(im.Config); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := validateSubject(im.Subject); err != nil {
		return err
	}
	m.Image = &im
	m.Descriptor.ArtifactType = im.ArtifactType
	return nil
}

func (m *Manifest) decodeIndex(p *probe) error {
	if isNull(p.Manifests) {
		return fmt.Errorf("it has no manifests list")
	}
	if err := checkDescriptors(p.Manifests, "manifest"); err != nil {
		return err
	}
	var ix ocispec.Index
	if err := json.Unmarshal(m.Raw, &ix); err != nil {
		return err
	}
	if ix.SchemaVersion != 2 {
		return fmt.Errorf("schemaVersion is %d, want 2", ix.SchemaVersion)
	}
	if err := validateSubject(ix.Subject); err != nil {
		return err
	}
	m.Index = &ix
	m.Descriptor.ArtifactType = ix.ArtifactType
	return nil
}

// checkDescriptors validates a JSON list of descriptors one at a time,
// before the manifest is decoded whole, and stops at the first bad one
// ("layer 3: ..."). Decoding first would cost a 120-byte descriptor for
// every 3 bytes of a hostile "[{},{},...]": some 900 MB for a 4 MiB
// manifest, before the first descriptor was found empty.
func checkDescriptors(raw json.RawMessage, what string) error {
	if isNull(raw) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return fmt.Errorf("the %ss are not a JSON list", what)
	}
	for i := 0; dec.More(); i++ {
		var d ocispec.Descriptor
		if err := dec.Decode(&d); err != nil {
			return fmt.Errorf("%s %d: %w", what, i, err)
		}
		if err := ValidateDescriptor(d); err != nil {
			return fmt.Errorf("%s %d: %w", what, i, err)
		}
	}
	return nil
}

// isNull reports whether a field was absent or JSON null.
func isNull(v json.RawMessage) bool {
	return len(v) == 0 || string(v) == "null"
}

func validateSubject(s *ocispec.Descriptor) error {
	if s == nil {
		return nil
	}
	if err := ValidateDescriptor(*s); err != nil {
		return fmt.Errorf("subject: %w", err)
	}
	return nil
}

// Subject returns the manifest's subject descriptor, or nil when it has
// none (legacy manifests never do).
func (m *Manifest) Subject() *ocispec.Descriptor {
	switch {
	case m.Image != nil:
		return m.Image.Subject
	case m.Index != nil:
		return m.Index.Subject
	}
	return nil
}

// Annotations returns the manifest's annotations, or nil.
func (m *Manifest) Annotations() map[string]string {
	switch {
	case m.Image != nil:
		return m.Image.Annotations
	case m.Index != nil:
		return m.Index.Annotations
	}
	return nil
}

// ArtifactType returns the artifact type the referrers API reports for this
// manifest: its artifactType field, or for an image manifest without one,
// its config's media type; an index without one has none ("").
func (m *Manifest) ArtifactType() string {
	switch {
	case m.Image != nil:
		if m.Image.ArtifactType != "" {
			return m.Image.ArtifactType
		}
		return m.Image.Config.MediaType
	case m.Index != nil:
		return m.Index.ArtifactType
	}
	return ""
}

// Verify checks that the manifest's bytes are named by d: the hash of Raw
// with d's algorithm is d. A signed legacy manifest is also accepted when
// its JWS payload (the bytes without the signatures, which is what old
// registries named it by) hashes to d. A mismatch wraps
// errcode.ErrDigestMismatch.
func (m *Manifest) Verify(d digest.Digest) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("manifest digest %q: %w", d, err)
	}
	got := d.Algorithm().FromBytes(m.Raw)
	if got == d {
		return nil
	}
	if m.Kind == KindLegacy {
		if payload, err := Schema1Payload(m.Raw); err == nil && d.Algorithm().FromBytes(payload) == d {
			return nil
		}
	}
	return &MismatchError{Want: ocispec.Descriptor{Digest: d, Size: -1}, GotDigest: got, GotSize: int64(len(m.Raw))}
}

// ReadManifest reads at most limit bytes from r and decodes them as a
// manifest with Decode. A manifest longer than limit is not decoded: the
// error wraps errcode.ErrTooLarge and names the limit. limit <= 0 means
// DefaultMaxManifestSize.
func ReadManifest(r io.Reader, contentType string, limit int64) (*Manifest, error) {
	raw, err := ReadCapped(r, limit, "manifest")
	if err != nil {
		return nil, err
	}
	return Decode(contentType, raw)
}

// ReadCapped reads r to EOF, but no more than limit bytes (limit <= 0
// means DefaultMaxManifestSize). When r holds more, it fails with an error
// that wraps errcode.ErrTooLarge and names what was being read and the
// limit. Every read of untrusted JSON goes through here.
func ReadCapped(r io.Reader, limit int64, what string) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxManifestSize
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if n > limit {
		return nil, TooLargeError(what, limit)
	}
	return buf.Bytes(), nil
}

// TooLargeError is the error for a body of kind what that exceeds limit
// bytes; it wraps errcode.ErrTooLarge.
func TooLargeError(what string, limit int64) error {
	return fmt.Errorf("%s is larger than the %s limit: %w", what, HumanSize(limit), errcode.ErrTooLarge)
}

// HumanSize renders n bytes as "4 MiB", "512 KiB" or "1000 B", exact when
// n is a whole number of the unit and with one decimal otherwise.
func HumanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	f, i := float64(n)/unit, 0
	for f >= unit && i < len(units)-1 {
		f /= unit
		i++
	}
	if f == float64(int64(f)) {
		return fmt.Sprintf("%d %s", int64(f), units[i])
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}
