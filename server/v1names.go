package server

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/hoist-dev/hoist/reference"
)

// The v1 naming rules for the path segments the server receives. Client
// names go through reference.ParseV1, whose rules these are, but it reads a
// first segment with a '.' as a registry host; a path has no host, so the
// server checks its segments itself. Tags share reference's grammar.
var (
	v1NamespaceRE = regexp.MustCompile(`^[a-z0-9_]{4,30}$`)
	v1RepoRE      = regexp.MustCompile(`^[a-z0-9_.-]+$`)
	v1ImageIDRE   = regexp.MustCompile(`^[a-f0-9]{64}$`)
)

// v1Name is a validated repository name, always namespace/repo.
type v1Name struct {
	namespace, repo string
}

func (n v1Name) String() string { return n.namespace + "/" + n.repo }

// parseV1Name validates the path segments of a repository name: [repo],
// which means library/repo, or [namespace, repo].
func parseV1Name(segs []string) (v1Name, error) {
	var n v1Name
	switch len(segs) {
	case 1:
		n = v1Name{"library", segs[0]}
	case 2:
		n = v1Name{segs[0], segs[1]}
	default:
		return n, fmt.Errorf("repository name %q must be NAME or NAMESPACE/NAME", strings.Join(segs, "/"))
	}
	if !v1NamespaceRE.MatchString(n.namespace) {
		return n, fmt.Errorf("invalid namespace %q: only [a-z0-9_] are allowed, size between 4 and 30", n.namespace)
	}
	if !v1RepoRE.MatchString(n.repo) || n.repo == "." || n.repo == ".." {
		return n, fmt.Errorf("invalid repository name %q: only [a-z0-9-_.] are allowed", n.repo)
	}
	return n, nil
}

func validTag(tag string) error { return reference.ValidateTag(tag) }

func validImageID(id string) error {
	if !v1ImageIDRE.MatchString(id) {
		return fmt.Errorf("invalid image id %q: it must be 64 lowercase hex digits", id)
	}
	return nil
}
