package content

import (
	"mime"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// OCI media types (image-spec v1.1).
const (
	MediaTypeOCIManifest  = ocispec.MediaTypeImageManifest
	MediaTypeOCIIndex     = ocispec.MediaTypeImageIndex
	MediaTypeOCIConfig    = ocispec.MediaTypeImageConfig
	MediaTypeOCILayer     = ocispec.MediaTypeImageLayer
	MediaTypeOCILayerGzip = ocispec.MediaTypeImageLayerGzip
	MediaTypeOCILayerZstd = ocispec.MediaTypeImageLayerZstd
	MediaTypeOCIEmptyJSON = ocispec.MediaTypeEmptyJSON
)

// Docker media types. Schema 1 (unsigned and signed) is legacy: hoist reads
// it but never writes it.
const (
	MediaTypeDockerManifest      = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList  = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeDockerConfig        = "application/vnd.docker.container.image.v1+json"
	MediaTypeDockerLayer         = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	MediaTypeDockerForeignLayer  = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
	MediaTypeDockerSchema1       = "application/vnd.docker.distribution.manifest.v1+json"
	MediaTypeDockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// Kind is what a manifest media type describes.
type Kind int

// The kinds of manifest. The zero value is KindUnknown.
const (
	// KindUnknown is anything that is not a manifest type hoist knows.
	KindUnknown Kind = iota
	// KindImage is one image: an OCI image manifest or Docker schema 2.
	KindImage
	// KindIndex lists manifests: an OCI index or Docker manifest list.
	KindIndex
	// KindLegacy is Docker schema 1, signed or not: read-only.
	KindLegacy
)

// String returns "image", "index", "legacy" or "unknown".
func (k Kind) String() string {
	switch k {
	case KindImage:
		return "image"
	case KindIndex:
		return "index"
	case KindLegacy:
		return "legacy"
	}
	return "unknown"
}

// KindOf classifies a manifest media type. Parameters (";charset=utf-8")
// and case are ignored; anything that is not a manifest type is KindUnknown.
func KindOf(mediaType string) Kind {
	switch BaseType(mediaType) {
	case MediaTypeOCIManifest, MediaTypeDockerManifest:
		return KindImage
	case MediaTypeOCIIndex, MediaTypeDockerManifestList:
		return KindIndex
	case MediaTypeDockerSchema1, MediaTypeDockerSchema1Signed:
		return KindLegacy
	}
	return KindUnknown
}

// BaseType returns a media type without parameters, lower-cased and
// trimmed: "Application/JSON; charset=utf-8" is "application/json". A value
// that does not parse is returned trimmed and lower-cased up to any ';'.
func BaseType(mediaType string) string {
	if mt, _, err := mime.ParseMediaType(mediaType); err == nil {
		return mt
	}
	mt, _, _ := strings.Cut(mediaType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// ManifestMediaTypes lists every manifest type hoist can read, in order of
// preference, for an Accept header. Legacy schema 1 comes last so a
// registry that can convert offers something newer first.
func ManifestMediaTypes() []string {
	return []string{
		MediaTypeOCIIndex,
		MediaTypeOCIManifest,
		MediaTypeDockerManifestList,
		MediaTypeDockerManifest,
		MediaTypeDockerSchema1Signed,
		MediaTypeDockerSchema1,
	}
}

// IsLayer reports whether mediaType is an OCI or Docker layer type
// (compressed or not, foreign or not).
func IsLayer(mediaType string) bool {
	mt := BaseType(mediaType)
	return strings.HasPrefix(mt, "application/vnd.oci.image.layer.") ||
		strings.HasPrefix(mt, "application/vnd.docker.image.rootfs.")
}
