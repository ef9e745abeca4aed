package syncer

import (
	"fmt"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"
	yaml "go.yaml.in/yaml/v2"

	"github.com/hoist-dev/hoist/auth"
)

// skopeoRegistry is one top-level entry of a skopeo sync YAML file
// (skopeo-sync(1), "YAML file content").
type skopeoRegistry struct {
	// Images maps a repository to its tags or digests; an empty list is
	// every tag.
	Images map[string][]string `yaml:"images"`
	// ImagesByTagRegex maps a repository to one regular expression its
	// tags must match.
	ImagesByTagRegex map[string]string `yaml:"images-by-tag-regex"`
	// ImagesBySemver maps a repository to a semver range (skopeo 1.14 on).
	ImagesBySemver map[string]string `yaml:"images-by-semver"`
	Credentials    struct {
		Username string `yaml:"username"`
		Password string `yaml:"password"`
	} `yaml:"credentials"`
	TLSVerify *bool  `yaml:"tls-verify"`
	CertDir   string `yaml:"cert-dir"`
}

// parseSkopeo reads skopeo sync's format: each top-level key a registry
// host. Every repository becomes one entry named as skopeo names it
// (NamingBase; SetTarget's scoped gives NamingScoped), with no target.
func parseSkopeo(raw []byte) (*Config, error) {
	var doc map[string]skopeoRegistry
	if err := yaml.UnmarshalStrict(raw, &doc); err != nil {
		return nil, fmt.Errorf("read as skopeo sync's format (a document without a top-level sync: list): %w", err)
	}
	c := &Config{Format: "skopeo", Credentials: map[string]auth.Credential{}, CertDirs: map[string]string{}}
	hosts := make([]string, 0, len(doc))
	for h := range doc {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		r := doc[h]
		loc, err := parseLocation(h)
		if err != nil || loc.layout || loc.path != "" {
			return nil, fmt.Errorf("%q: a top-level key of skopeo's format is a registry host, such as registry.example.com or localhost:5000", h)
		}
		host := loc.host
		if r.Credentials.Username != "" || r.Credentials.Password != "" {
			c.Credentials[host] = auth.Credential{Username: r.Credentials.Username, Password: r.Credentials.Password}
		}
		if r.TLSVerify != nil && !*r.TLSVerify {
			c.Insecure = append(c.Insecure, host)
		}
		if r.CertDir != "" {
			c.CertDirs[host] = r.CertDir
		}
		if len(r.Images)+len(r.ImagesByTagRegex)+len(r.ImagesBySemver) == 0 {
			return nil, fmt.Errorf("%s: no images, images-by-tag-regex or images-by-semver: nothing to sync from it", h)
		}
		add := func(repo string, f *TagFilter) {
			c.Sync = append(c.Sync, Entry{Source: host, Repositories: []string{repo}, Tags: f, Naming: NamingBase})
		}
		for _, repo := range sortedKeys(r.Images) {
			f := &TagFilter{}
			for _, t := range r.Images[repo] {
				if strings.Contains(t, ":") {
					if _, err := digest.Parse(t); err != nil {
						return nil, fmt.Errorf("%s: images: %s: %q is neither a tag nor a digest: %w", h, repo, t, err)
					}
					f.Digests = append(f.Digests, t)
				} else {
					f.Names = append(f.Names, t)
				}
			}
			if len(f.Names) == 0 && len(f.Digests) == 0 {
				f = nil // every tag
			}
			add(repo, f)
		}
		for _, repo := range sortedKeys(r.ImagesByTagRegex) {
			add(repo, &TagFilter{Allow: []string{unanchored(r.ImagesByTagRegex[repo])}})
		}
		for _, repo := range sortedKeys(r.ImagesBySemver) {
			add(repo, &TagFilter{Semver: r.ImagesBySemver[repo]})
		}
	}
	// No target yet: SetTarget gives one, and checks.
	return c, nil
}

// unanchored turns skopeo's tag regex, which Go's regexp matches anywhere
// in the tag (MatchString), into a pattern for the anchored Allow.
func unanchored(p string) string {
	return ".*(?:" + p + ").*"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
