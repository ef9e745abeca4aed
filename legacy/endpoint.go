package legacy

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/hoist-dev/hoist/auth"
)

// DockerHubIndex is the endpoint of the public v1 index. It is never
// pinged, and it is not standalone.
const DockerHubIndex = "https://index.docker.io/v1/"

// ParseEndpoint turns what a user writes for a v1 registry or index into
// an endpoint URL ending in "/v1/":
//
//   - a bare "host" or "host:port" becomes https://HOST/v1/; hoist's
//     transport falls back to http by itself for loopback hosts and hosts
//     given with --insecure-registry, so there is no http form to try here;
//   - a URL keeps its scheme (http or https) and gets "/v1/" appended
//     unless its path already ends there: "https://host" and
//     "https://host/v1" both become https://host/v1/;
//   - Docker Hub's names ("docker.io", "index.docker.io", ...) become
//     DockerHubIndex.
//
// User info, queries and fragments are refused, as are empty hosts.
func ParseEndpoint(s string) (*url.URL, error) {
	in := s
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("v1 endpoint is empty: write HOST[:PORT] or https://HOST[:PORT]/v1/")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("v1 endpoint %q: %w", in, err)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("v1 endpoint %q: scheme must be https or http, not %q", in, u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("v1 endpoint %q has no host", in)
	case u.User != nil:
		return nil, fmt.Errorf("v1 endpoint %q: remove the user name; log in with `hoist login` instead", in)
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return nil, fmt.Errorf("v1 endpoint %q: remove the query or fragment", in)
	}
	if auth.NormalizeHost(u.Host) == "docker.io" {
		return url.Parse(DockerHubIndex)
	}
	p := u.Path
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	if !strings.HasSuffix(p, "/v1/") {
		p += "v1/"
	}
	u.Path, u.RawPath = p, ""
	u.Host = strings.ToLower(u.Host)
	return u, nil
}

// isPublicIndex reports whether u is Docker Hub's v1 index.
func isPublicIndex(u *url.URL) bool {
	return u.String() == DockerHubIndex
}

// resolve returns the URL of path (relative, e.g. "images/ID/json")
// under the endpoint ep.
func resolve(ep *url.URL, path string) *url.URL {
	return ep.ResolveReference(&url.URL{Path: path})
}

// parseEndpointsHeader reads X-Docker-Endpoints: comma-separated hosts,
// possibly over several header lines, spaces around them allowed. Each
// host becomes scheme://HOST/v1/ with the index's scheme. An entry
// written as a URL contributes its host only, so an index cannot move a
// client to another scheme. Entries that are not a host[:port] are an
// error.
func parseEndpointsHeader(values []string, scheme string) ([]*url.URL, error) {
	var eps []*url.URL
	seen := map[string]bool{}
	for _, v := range values {
		for _, h := range strings.Split(v, ",") {
			h = strings.TrimSpace(h)
			if h == "" {
				continue
			}
			if i := strings.Index(h, "://"); i >= 0 {
				h = h[i+3:]
				h, _, _ = strings.Cut(h, "/")
			}
			u, err := url.Parse(scheme + "://" + h + "/v1/")
			if err != nil || u.Host != h || u.Hostname() == "" || u.User != nil || strings.ContainsAny(h, "/?#@") {
				return nil, fmt.Errorf("X-Docker-Endpoints names %q, which is not a host[:port]", h)
			}
			u.Host = strings.ToLower(u.Host)
			if !seen[u.Host] {
				seen[u.Host] = true
				eps = append(eps, u)
			}
		}
	}
	return eps, nil
}

// remoteName returns the name as v1 URLs use it: "namespace/repo", with
// a name that has no namespace put in "library". It checks only what
// would break a URL path; reference.ParseV1 applies the naming rules.
func remoteName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("v1 repository name is empty")
	}
	if !strings.Contains(name, "/") {
		name = "library/" + name
	}
	ns, repo, _ := strings.Cut(name, "/")
	for _, part := range []string{ns, repo} {
		if part == "" || part == "." || part == ".." || strings.ContainsAny(part, "/?#%\\ \t\r\n:@") {
			return "", fmt.Errorf("v1 repository name %q must be NAMESPACE/REPO (or REPO for library/REPO)", name)
		}
	}
	return name, nil
}

// remoteTag checks name as remoteName does and tag as validTag does, for
// a URL path that names both, and returns name as remoteName does.
func remoteTag(name, tag string) (string, error) {
	remote, err := remoteName(name)
	if err != nil {
		return "", err
	}
	if err := validTag(tag); err != nil {
		return "", err
	}
	return remote, nil
}

// validID checks a v1 image ID, which goes into URL paths: 64 lowercase
// hex digits.
func validID(id string) error {
	if len(id) != 64 {
		return fmt.Errorf("invalid v1 image id %q: want 64 lowercase hex digits", id)
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("invalid v1 image id %q: want 64 lowercase hex digits", id)
		}
	}
	return nil
}

// validTag checks a tag, which goes into a URL path.
func validTag(tag string) error {
	if tag == "" || len(tag) > 128 || strings.ContainsAny(tag, "/?#%\\ \t\r\n:@") || tag == "." || tag == ".." {
		return fmt.Errorf("invalid v1 tag %q", tag)
	}
	return nil
}
