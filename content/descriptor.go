package content

import (
	// go-digest computes and validates only the algorithms linked in.
	_ "crypto/sha256"
	_ "crypto/sha512"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// NewDescriptor describes data: its media type, its sha256 digest and its
// length.
func NewDescriptor(mediaType string, data []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
}

// ValidateDescriptor checks what every descriptor needs before it is used
// to fetch or verify content: a well-formed digest of an algorithm this
// build can compute, and a size that is not negative.
func ValidateDescriptor(d ocispec.Descriptor) error {
	if err := d.Digest.Validate(); err != nil {
		return fmt.Errorf("descriptor digest %q: %w", d.Digest, err)
	}
	if d.Size < 0 {
		return fmt.Errorf("descriptor %s has negative size %d", d.Digest, d.Size)
	}
	return nil
}
