package content

import (
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ParsePlatform parses "os/arch" or "os/arch/variant", as docker's
// --platform flag takes it, and normalises it (see NormalizePlatform).
func ParsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return ocispec.Platform{}, fmt.Errorf("platform %q: want os/arch or os/arch/variant, e.g. linux/arm64", s)
	}
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			return ocispec.Platform{}, fmt.Errorf("platform %q has an empty part: want os/arch or os/arch/variant, e.g. linux/arm64", s)
		}
	}
	p := ocispec.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return NormalizePlatform(p), nil
}

// FormatPlatform renders p as "os/arch" or "os/arch/variant".
func FormatPlatform(p ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// NormalizePlatform spells p the way OCI indexes do: lower case, GOARCH
// names for the kernel's (x86_64 is amd64, aarch64 is arm64), and the
// default variant of an architecture dropped (arm64/v8, amd64/v1), so that
// two spellings of one platform compare equal.
func NormalizePlatform(p ocispec.Platform) ocispec.Platform {
	p.OS = strings.ToLower(strings.TrimSpace(p.OS))
	p.Architecture = strings.ToLower(strings.TrimSpace(p.Architecture))
	p.Variant = strings.ToLower(strings.TrimSpace(p.Variant))
	switch p.Architecture {
	case "x86_64", "x86-64":
		p.Architecture = "amd64"
	case "aarch64":
		p.Architecture = "arm64"
	case "i386", "i486", "i586", "i686":
		p.Architecture = "386"
	case "armhf":
		p.Architecture, p.Variant = "arm", "v7"
	case "armel":
		p.Architecture, p.Variant = "arm", "v6"
	}
	switch {
	case p.Architecture == "arm64" && (p.Variant == "v8" || p.Variant == "8"),
		p.Architecture == "amd64" && (p.Variant == "v1" || p.Variant == "1"):
		p.Variant = ""
	case p.Architecture == "arm" && len(p.Variant) == 1 && p.Variant[0] >= '5' && p.Variant[0] <= '8':
		p.Variant = "v" + p.Variant
	}
	return p
}

// MatchPlatform reports whether an index entry for have serves a request
// for want. OS and architecture must be equal after normalisation; the
// variant must be too, unless want has none, which accepts any. OS version
// and features are not compared.
func MatchPlatform(want, have ocispec.Platform) bool {
	w, h := NormalizePlatform(want), NormalizePlatform(have)
	if w.OS != h.OS || w.Architecture != h.Architecture {
		return false
	}
	return w.Variant == "" || w.Variant == h.Variant
}

// SelectPlatform returns the first manifest of an index whose platform
// matches want, and whether there was one. Entries without a platform
// (attestations, for instance) never match.
func SelectPlatform(ix *ocispec.Index, want ocispec.Platform) (ocispec.Descriptor, bool) {
	for _, d := range ix.Manifests {
		if d.Platform != nil && MatchPlatform(want, *d.Platform) {
			return d, true
		}
	}
	return ocispec.Descriptor{}, false
}
