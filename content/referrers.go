package content

import (
	"regexp"
	"strings"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ReferrersTag returns the tag under which clients keep the referrers of
// subject where there is no referrers API (the distribution spec's
// referrers tag schema): the algorithm cut to 32 characters, '-', the
// encoded part cut to 64, with characters a tag may not hold turned into
// '-'. For sha256 that is "sha256-" followed by the hex.
func ReferrersTag(subject digest.Digest) string {
	alg, enc, _ := strings.Cut(string(subject), ":")
	return tagSafe(truncate(alg, 32)) + "-" + tagSafe(truncate(enc, 64))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func tagSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			return r
		}
		return '-'
	}, s)
}

// schemaTag matches the tags derived from a sha256 or sha512 digest: the
// referrers tag (ALG-HEX) and cosign's legacy tags (ALG-HEX.sig, .att,
// .sbom).
var schemaTag = regexp.MustCompile(`^(sha256-[0-9a-f]{64}|sha512-[0-9a-f]{64})(\.sig|\.att|\.sbom)?$`)

// ReferrersTagSubject reports whether tag is a referrers tag (see
// ReferrersTag) of a sha256 digest, and which digest. Tags of longer
// digests are cut by the schema and cannot be reversed; sha512's are not
// recognised.
func ReferrersTagSubject(tag string) (digest.Digest, bool) {
	m := schemaTag.FindStringSubmatch(tag)
	if m == nil || m[2] != "" || !strings.HasPrefix(tag, "sha256-") {
		return "", false
	}
	return digest.Digest("sha256:" + strings.TrimPrefix(m[1], "sha256-")), true
}

// CosignSuffixes are the suffixes cosign's legacy tags add to the
// referrers tag of the image they describe: a signature, an attestation,
// an SBOM.
var CosignSuffixes = []string{".sig", ".att", ".sbom"}

// CosignTags returns cosign's legacy tags for subject, in CosignSuffixes'
// order: "sha256-HEX.sig", ".att", ".sbom".
func CosignTags(subject digest.Digest) []string {
	base := ReferrersTag(subject)
	out := make([]string, len(CosignSuffixes))
	for i, s := range CosignSuffixes {
		out[i] = base + s
	}
	return out
}

// IsCosignTag reports whether tag is one of cosign's legacy tags for some
// digest (see CosignTags).
func IsCosignTag(tag string) bool {
	m := schemaTag.FindStringSubmatch(tag)
	return m != nil && m[2] != ""
}

// ReferrerDescriptor is how the manifest m, stored as desc, is listed
// among its subject's referrers (the referrers API's answer and the
// referrers tag's index): its media type, digest and size, its artifact
// type (see Manifest.ArtifactType) and its annotations.
func ReferrerDescriptor(m *Manifest, desc ocispec.Descriptor) ocispec.Descriptor {
	out := ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size, ArtifactType: m.ArtifactType()}
	if out.MediaType == "" {
		out.MediaType = m.Descriptor.MediaType
	}
	if a := m.Annotations(); len(a) > 0 {
		out.Annotations = a
	}
	return out
}
