package content

import (
	"encoding/json"
	"fmt"
	"maps"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// EmptyJSON is the content of the empty descriptor image-spec 1.1
// recommends as the config of an artifact that has none: "{}".
var EmptyJSON = []byte("{}")

// EmptyDescriptor describes EmptyJSON with media type
// application/vnd.oci.empty.v1+json, as image-spec 1.1 defines it.
func EmptyDescriptor() ocispec.Descriptor {
	d := NewDescriptor(MediaTypeOCIEmptyJSON, EmptyJSON)
	d.Data = EmptyJSON
	return d
}

// Artifact says what NewArtifact builds.
type Artifact struct {
	// ArtifactType is the manifest's artifactType (required).
	ArtifactType string
	// Layers are the artifact's blobs, in order; none gives the one
	// empty layer image-spec 1.1 asks for.
	Layers []ocispec.Descriptor
	// Subject, when set, makes the artifact a referrer of that manifest.
	Subject *ocispec.Descriptor
	// Annotations are the manifest's annotations.
	Annotations map[string]string
}

// NewArtifact returns the bytes and descriptor of an OCI image manifest
// holding an artifact, as image-spec 1.1 describes one: artifactType set,
// the empty descriptor as config (with its data inlined, which a reader
// may use and must not need), and the layers. The manifest is a
// function of a alone, so the same artifact has the same digest.
func NewArtifact(a Artifact) ([]byte, ocispec.Descriptor, error) {
	if a.ArtifactType == "" {
		return nil, ocispec.Descriptor{}, fmt.Errorf("an artifact needs an artifact type (a media type such as application/vnd.example.sbom+json)")
	}
	if err := CheckMediaType(a.ArtifactType); err != nil {
		return nil, ocispec.Descriptor{}, fmt.Errorf("artifact type %q: %w", a.ArtifactType, err)
	}
	layers := a.Layers
	if len(layers) == 0 {
		layers = []ocispec.Descriptor{EmptyDescriptor()}
	}
	for i, l := range layers {
		if err := ValidateDescriptor(l); err != nil {
			return nil, ocispec.Descriptor{}, fmt.Errorf("artifact layer %d: %w", i, err)
		}
	}
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    MediaTypeOCIManifest,
		ArtifactType: a.ArtifactType,
		Config:       EmptyDescriptor(),
		Layers:       layers,
		Subject:      a.Subject,
	}
	if len(a.Annotations) > 0 {
		m.Annotations = maps.Clone(a.Annotations)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	desc := NewDescriptor(MediaTypeOCIManifest, raw)
	desc.ArtifactType = a.ArtifactType
	return raw, desc, nil
}

// CheckMediaType checks the shape RFC 6838 gives a media type: type/subtype
// of letters, digits and !#$&-^_.+ characters, 255 at most, without
// parameters.
func CheckMediaType(s string) error {
	slash := -1
	for i, r := range s {
		switch {
		case r == '/' && slash < 0 && i > 0:
			slash = i
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case (r == '!' || r == '#' || r == '$' || r == '&' || r == '-' || r == '^' || r == '_' || r == '.' || r == '+') && i > 0 && i != slash+1:
		default:
			return fmt.Errorf("not a media type (want type/subtype, e.g. application/vnd.example.sbom+json)")
		}
	}
	if slash < 0 || slash == len(s)-1 || len(s) > 255 {
		return fmt.Errorf("not a media type (want type/subtype, e.g. application/vnd.example.sbom+json)")
	}
	return nil
}
