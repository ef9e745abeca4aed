package reference

import (
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Parse parses s, [host[:port]/]path[:tag][@digest], and normalises it
// with docker's defaults: no host means DefaultRegistry, Docker Hub's
// aliases become "docker.io", and a one-component repository on Docker Hub
// gets "library/". The tag and the digest are both optional and may both
// be present. As in docker, "localhost:5000" alone is the repository
// "library/localhost" with the tag "5000": a registry needs a repository
// after it. An error is an *Error matching ErrInvalid that names the bad
// part.
func Parse(s string) (Reference, error) {
	ref, p, err := splitName(s)
	if err != nil {
		return Reference{}, err
	}
	if p.hasTag {
		if err := checkTag(s, p.tag); err != nil {
			return Reference{}, err
		}
		ref.Tag = p.tag
	}
	if p.hasDigest {
		if err := checkDigest(s, p.digest); err != nil {
			return Reference{}, err
		}
		ref.Digest = digest.Digest(p.digest)
	}
	return ref, nil
}

// ParseName parses a repository name, [host[:port]/]path, normalised as
// Parse does. A tag or a digest is an error that says what to write
// instead; the error is an *Error matching ErrInvalid.
func ParseName(s string) (Reference, error) {
	ref, p, err := splitName(s)
	if err != nil {
		return Reference{}, err
	}
	switch {
	case p.hasDigest:
		return Reference{}, invalid(s, "repository name", s, fmt.Sprintf("a name takes no digest; write %q", p.name))
	case p.hasTag:
		reason := fmt.Sprintf("a name takes no tag; write %q", p.name)
		if !strings.Contains(p.name, "/") && isDigits(p.tag) {
			reason += fmt.Sprintf(", or %q if %q is a registry", p.name+":"+p.tag+"/REPOSITORY", p.name+":"+p.tag)
		}
		return Reference{}, invalid(s, "repository name", s, reason)
	}
	return ref, nil
}

// parts is a reference cut at its ':' and '@', unvalidated.
type parts struct {
	name      string
	tag       string
	hasTag    bool
	digest    string
	hasDigest bool
}

// split cuts s into name, tag and digest, rejecting what no part can fix:
// an empty string, surrounding spaces, a URL scheme, and (as docker does)
// a bare 64-digit hex string, which docker reads as an image ID.
func split(s string) (parts, error) {
	var p parts
	switch {
	case s == "":
		return p, invalidRef(s, `empty; write [host[:port]/]path[:tag][@digest], e.g. "ubuntu:22.04"`)
	case strings.TrimSpace(s) != s:
		return p, invalidRef(s, fmt.Sprintf("remove the spaces around it: %q", strings.TrimSpace(s)))
	}
	if isImageID(s) {
		return p, invalidRef(s, fmt.Sprintf("64 hex digits are an image ID, not a name; to name an image by digest write NAME@sha256:%s", s))
	}
	if i := strings.Index(s, "://"); i >= 0 {
		reason := fmt.Sprintf("remove the scheme %q", s[:i+3])
		if rest := s[i+3:]; rest != "" {
			reason += fmt.Sprintf(": write %q", rest)
		}
		return p, invalidRef(s, reason)
	}
	name := s
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name, p.digest, p.hasDigest = name[:i], name[i+1:], true
	}
	if strings.HasPrefix(name, "[") && !strings.Contains(name, "/") {
		return p, invalidRef(s, fmt.Sprintf("a registry host needs a repository after it, e.g. %q", name+"/app"))
	}
	if c := strings.LastIndexByte(name, ':'); c > strings.LastIndexByte(name, '/') {
		name, p.tag, p.hasTag = name[:c], name[c+1:], true
	}
	if name == "" {
		return p, invalidRef(s, `no repository name before the ":" or "@"; write e.g. "ubuntu:22.04"`)
	}
	p.name = name
	return p, nil
}

// splitName splits s (split) and parses its name (parseName): where
// Parse and ParseName both start.
func splitName(s string) (Reference, parts, error) {
	p, err := split(s)
	if err != nil {
		return Reference{}, p, err
	}
	ref, err := parseName(s, p.name)
	return ref, p, err
}

// parseName turns name, [host[:port]/]path, into a normalised Reference
// without tag or digest. input is the whole string, for messages.
func parseName(input, name string) (Reference, error) {
	registry, path := "", name
	if first, rest, ok := strings.Cut(name, "/"); ok && looksLikeHost(first) {
		if err := checkHost(input, "", first); err != nil {
			return Reference{}, err
		}
		registry, path = first, rest
	}
	if err := checkPath(input, registry, path); err != nil {
		return Reference{}, err
	}
	if registry == "" || IsDockerHub(registry) {
		registry = DefaultRegistry
		if !strings.Contains(path, "/") {
			path = officialPrefix + path
		}
	}
	ref := Reference{Registry: registry, Repository: path}
	if n := len(ref.Name()); n > NameTotalLengthMax {
		return Reference{}, invalidRef(input, fmt.Sprintf("the name is %d characters long counting the registry %q; the limit is %d", n, registry, NameTotalLengthMax))
	}
	return ref, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isImageID reports whether s is 64 lowercase hex digits: a v1 image ID
// or a sha256 digest without its "sha256:".
func isImageID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerAlnum(s[i]) || s[i] > 'f' {
			return false
		}
	}
	return true
}
