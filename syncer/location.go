package syncer

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/hoist-dev/hoist/reference"
)

// location is a parsed source or target: a registry host and a path
// prefix, or a directory of OCI layouts.
type location struct {
	layout bool
	host   string // registry host as a reference names it ("docker.io")
	path   string // repository path prefix; "" for the whole registry
	dir    string // layout tree directory
}

// String is how the location is written in a config.
func (l location) String() string {
	switch {
	case l.layout:
		return "oci:" + l.dir
	case l.path == "":
		return l.host
	}
	return l.host + "/" + l.path
}

// dockerHubAliases are the names of Docker Hub that docker accepts.
var dockerHubAliases = map[string]bool{"docker.io": true, "index.docker.io": true, "registry-1.docker.io": true}

// parseLocation reads "oci:DIR", or "[docker://]HOST[/PATH]". A first
// component without '.' or ':' that is not localhost is a Docker Hub
// path, as in image references.
func parseLocation(s string) (location, error) {
	if dir, ok := strings.CutPrefix(s, "oci:"); ok {
		if dir == "" {
			return location{}, fmt.Errorf("%q names no directory: write oci:DIR", s)
		}
		return location{layout: true, dir: filepath.Clean(dir)}, nil
	}
	s = strings.TrimPrefix(s, "docker://")
	s = strings.TrimSuffix(s, "/")
	if s == "" {
		return location{}, fmt.Errorf("empty: name a registry host, host/prefix or oci:DIR")
	}
	if strings.ContainsAny(s, "@ \t") || strings.Contains(path.Base(s), ":") && strings.Contains(s, "/") {
		return location{}, fmt.Errorf("%q: a source or target names a registry and a repository path, without a tag or digest (tags go under tags:)", s)
	}
	first, rest, _ := strings.Cut(s, "/")
	l := location{host: first, path: rest}
	if !strings.ContainsAny(first, ".:") && first != "localhost" {
		l = location{host: reference.DefaultRegistry, path: s}
	}
	if dockerHubAliases[l.host] {
		l.host = reference.DefaultRegistry
	}
	if l.path != "" {
		if err := reference.ValidateRepository(l.path); err != nil {
			return location{}, fmt.Errorf("%q: %w", s, err)
		}
	}
	return l, nil
}

// joinRepo is repository name under l's prefix, checked; on Docker Hub a
// one-component name at the top is an official image (library/NAME).
func joinRepo(l location, name string) (string, error) {
	name = strings.Trim(name, "/")
	full := name
	if l.path != "" {
		full = l.path + "/" + name
	}
	if l.host == reference.DefaultRegistry && !strings.Contains(full, "/") {
		full = "library/" + full
	}
	if l.layout {
		if strings.Contains(name, "..") || filepath.IsAbs(name) {
			return "", fmt.Errorf("%q: a layout's repository is a relative path without ..", name)
		}
	}
	if err := reference.ValidateRepository(full); err != nil {
		return "", fmt.Errorf("%q: %w", name, err)
	}
	return full, nil
}

// relName is repository repo (a full path in source l) as a name under
// l's prefix: what a target prefix gets appended.
func relName(l location, repo string) string {
	if l.path == "" {
		return repo
	}
	return strings.TrimPrefix(strings.TrimPrefix(repo, l.path), "/")
}

// targetRepo is the target repository (a path in a registry, or a
// directory under a layout tree) for source repository repo.
func targetRepo(e *Entry, src, dst location, repo string) string {
	if e.single {
		if dst.layout {
			return path.Base(repo)
		}
		return dst.path
	}
	name := relName(src, repo)
	switch e.Naming {
	case NamingBase:
		name = path.Base(repo)
	case NamingScoped:
		name = src.host + "/" + repo
	}
	if dst.layout || dst.path == "" {
		return name
	}
	return dst.path + "/" + name
}

// CanonicalHost is host as a config names it: Docker Hub's aliases
// (index.docker.io, registry-1.docker.io) are docker.io.
func CanonicalHost(host string) string {
	if dockerHubAliases[host] {
		return reference.DefaultRegistry
	}
	return host
}
