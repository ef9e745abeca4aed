package reference

import (
	_ "crypto/sha256" // digest.Algorithm.Available needs the hashes linked in
	_ "crypto/sha512"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
)

// ValidateDigest checks d the way go-digest does (a known algorithm and
// the right number of lowercase hex digits) and explains a failure. The
// error is an *Error matching ErrInvalid, and also go-digest's own error
// (digest.ErrDigestInvalidFormat, ErrDigestInvalidLength or
// ErrDigestUnsupported) when it has one.
func ValidateDigest(d digest.Digest) error {
	return checkDigest(string(d), string(d))
}

// checkDigest validates d as part of input.
func checkDigest(input, d string) error {
	err := digest.Digest(d).Validate()
	if err == nil {
		return nil
	}
	e := invalid(input, "digest", d, digestProblem(d, input != d))
	e.Err = err
	return e
}

// digestProblem explains why d failed go-digest's validation.
func digestProblem(d string, afterAt bool) string {
	const example = `e.g. "sha256:" followed by 64 lowercase hex digits`
	alg, hex, ok := strings.Cut(d, ":")
	switch {
	case d == "" && afterAt:
		return `empty; write ALGORITHM:HEX after the "@", ` + example
	case d == "":
		return "empty; write ALGORITHM:HEX, " + example
	case !ok || alg == "":
		return `missing the "ALGORITHM:" prefix; ` + example
	}
	a := digest.Algorithm(alg)
	if !a.Available() {
		if l := digest.Algorithm(strings.ToLower(alg)); l.Available() {
			return fmt.Sprintf("the algorithm must be lowercase: write %q", string(l)+":"+hex)
		}
		return fmt.Sprintf("unknown algorithm %q; use sha256, sha384 or sha512", alg)
	}
	for i := 0; i < len(hex); i++ {
		if !isHex(hex[i]) {
			return fmt.Sprintf("%s is not a hex digit; after %q write %d lowercase hex digits", charAt(hex, i), alg+":", a.Size()*2)
		}
	}
	if len(hex) != a.Size()*2 {
		return fmt.Sprintf("%s needs %d hex digits, this has %d", alg, a.Size()*2, len(hex))
	}
	if lower := strings.ToLower(hex); lower != hex {
		return fmt.Sprintf("hex digits must be lowercase: write %q", alg+":"+lower)
	}
	return example
}
