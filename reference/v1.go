package reference

import (
	"fmt"
	"regexp"
	"strings"
)

// V1PublicIndex is the host of the public v1 index, which a V1Name with
// an empty Index refers to.
const V1PublicIndex = "index.docker.io"

// officialNamespace is the namespace of a v1 name written without one.
const officialNamespace = "library"

var (
	v1NamespaceRE = regexp.MustCompile(`^[a-z0-9_]{4,30}$`)
	v1RepoRE      = regexp.MustCompile(`^[a-z0-9_.-]+$`)
)

// V1Name is a repository name under the legacy Docker Registry v1 rules,
// as ParseV1 returns it. The zero value is not a valid name. It is a plain
// comparable value, safe to copy and share.
type V1Name struct {
	// Index is "" for the public index (V1PublicIndex), or the host[:port]
	// of a private registry as written, e.g. "localhost:5000".
	Index string
	// Namespace is the user or organisation; "library" when the name had
	// none.
	Namespace string
	// Repo is the repository inside Namespace.
	Repo string
	// Tag is "" when the name had none.
	Tag string
}

// Remote returns "namespace/repo", the name in v1 URLs
// (repositories/NAMESPACE/REPO/...).
func (n V1Name) Remote() string { return n.Namespace + "/" + n.Repo }

// IsPublic reports whether the name lives on the public index.
func (n V1Name) IsPublic() bool { return n.Index == "" }

// IndexHost returns the host to talk to first: Index, or V1PublicIndex
// for a public name.
func (n V1Name) IndexHost() string {
	if n.IsPublic() {
		return V1PublicIndex
	}
	return n.Index
}

// String returns [index/]namespace/repo[:tag], with the namespace always
// written ("library/foo"). ParseV1(n.String()) returns n for any valid n.
func (n V1Name) String() string {
	s := n.Remote()
	if n.Index != "" {
		s = n.Index + "/" + s
	}
	if n.Tag != "" {
		s += ":" + n.Tag
	}
	return s
}

// ParseV1 parses a v1 name, [host[:port]/][namespace/]repo[:tag]:
//
//   - the first component is a private registry when it contains '.' or
//     ':' or is "localhost" (and it is followed by more); otherwise the
//     whole name is on the public index;
//   - a name without a namespace is in "library";
//   - the namespace matches ^[a-z0-9_]{4,30}$ and the repo ^[a-z0-9-_.]+$
//     (and is not "." or ".."); a second '/' is an error;
//   - Docker Hub's hosts ("index.docker.io/foo") are refused with the hint
//     to leave them out, since the public index is the default;
//   - a URL scheme or a digest is an error.
//
// The error is an *Error matching ErrInvalid.
func ParseV1(s string) (V1Name, error) {
	const part = "v1 repository name"
	bad := func(reason string) (V1Name, error) { return V1Name{}, invalid(s, part, s, reason) }
	switch {
	case s == "":
		return bad("empty; write REPO, NAMESPACE/REPO or HOST[:PORT]/NAMESPACE/REPO, optionally with :TAG")
	case strings.TrimSpace(s) != s:
		return bad(fmt.Sprintf("remove the spaces around it: %q", strings.TrimSpace(s)))
	case strings.Contains(s, "://"):
		i := strings.Index(s, "://")
		return bad(fmt.Sprintf("remove the scheme %q", s[:i+3]))
	case strings.Contains(s, "@"):
		return bad(fmt.Sprintf("v1 has no digests; remove %q", s[strings.IndexByte(s, '@'):]))
	}
	var n V1Name
	name := s
	hasTag := false
	if c := strings.LastIndexByte(name, ':'); c > strings.LastIndexByte(name, '/') {
		name, n.Tag, hasTag = name[:c], name[c+1:], true
	}
	remote := name
	if first, rest, ok := strings.Cut(name, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		if err := checkHost(s, "v1 ", first); err != nil {
			return V1Name{}, err
		}
		if IsDockerHub(first) {
			return bad(fmt.Sprintf("write %q; the public index is the default", s[len(first)+1:]))
		}
		n.Index, remote = first, rest
	}
	if err := n.setRemote(s, remote); err != nil {
		return V1Name{}, err
	}
	if hasTag {
		if err := checkTag(s, n.Tag); err != nil {
			return V1Name{}, err
		}
	}
	return n, nil
}

// setRemote validates remote, [namespace/]repo, and fills in n.
func (n *V1Name) setRemote(input, remote string) error {
	switch ns, repo, ok := strings.Cut(remote, "/"); {
	case remote == "":
		return invalid(input, "v1 repository name", input, `no repository name; write e.g. "foo" or "namespace/foo"`)
	case strings.HasPrefix(remote, "/"):
		return invalid(input, "v1 repository name", input, `starts with "/"; remove it`)
	case strings.HasSuffix(remote, "/"):
		return invalid(input, "v1 repository name", input, `ends with "/"; remove it`)
	case strings.Contains(repo, "/"):
		return invalid(input, "v1 repository name", input, fmt.Sprintf("%q has more than one \"/\"; v1 names are NAMESPACE/REPO", remote))
	case ok:
		n.Namespace, n.Repo = ns, repo
	default:
		n.Namespace, n.Repo = officialNamespace, remote
	}
	if !v1NamespaceRE.MatchString(n.Namespace) {
		return invalid(input, "v1 namespace", n.Namespace, v1Problem(n.Namespace, v1NamespaceRE,
			"namespaces are 4 to 30 characters of a-z, 0-9 and '_'"))
	}
	if n.Repo == "." || n.Repo == ".." {
		return invalid(input, "v1 repository", n.Repo, `"." and ".." are not repository names`)
	}
	if !v1RepoRE.MatchString(n.Repo) {
		return invalid(input, "v1 repository", n.Repo, v1Problem(n.Repo, v1RepoRE,
			"only a-z, 0-9, '-', '_' and '.' are allowed"))
	}
	return nil
}

// v1Problem returns rule, or a lowercase hint when lowering s would fix it.
func v1Problem(s string, re *regexp.Regexp, rule string) string {
	if lower := strings.ToLower(s); lower != s && re.MatchString(lower) {
		return fmt.Sprintf("must be lowercase: write %q", lower)
	}
	if s == "" {
		return "empty; " + rule
	}
	return rule
}
