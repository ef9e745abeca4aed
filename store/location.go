package store

import (
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/hoist-dev/hoist/reference"
)

// Kind is the kind of location a string names.
type Kind int

// The kinds of location.
const (
	// Registry is a repository of a registry: REF or docker://REF.
	Registry Kind = iota + 1
	// OCILayout is an OCI image layout directory: oci:DIR[:TAG|@DIGEST].
	OCILayout
	// DockerArchive is a docker save tarball: docker-archive:FILE[:REF].
	DockerArchive
)

// String returns the transport prefix of the kind.
func (k Kind) String() string {
	switch k {
	case Registry:
		return "docker"
	case OCILayout:
		return "oci"
	case DockerArchive:
		return "docker-archive"
	}
	return "unknown"
}

// Location is a parsed location string.
type Location struct {
	Kind Kind
	// Ref is the image reference of a Registry location, and the optional
	// REF of a DockerArchive (zero when absent).
	Ref reference.Reference
	// Path is the directory of an OCILayout or the file of a DockerArchive.
	Path string
	// Tag is the TAG of an OCILayout ("" when absent), or its digest as a
	// string when written oci:DIR@DIGEST.
	Tag string
}

// String writes the location back in the form ParseLocation reads.
func (l Location) String() string {
	switch l.Kind {
	case OCILayout:
		switch {
		case l.Tag == "":
			return "oci:" + l.Path
		case strings.Contains(l.Tag, ":"):
			return "oci:" + l.Path + "@" + l.Tag
		}
		return "oci:" + l.Path + ":" + l.Tag
	case DockerArchive:
		if l.Ref.Repository != "" {
			return "docker-archive:" + l.Path + ":" + l.Ref.Familiar()
		}
		return "docker-archive:" + l.Path
	}
	return l.Ref.String()
}

// ParseLocation reads the location syntax of the CLI:
//
//	REF | docker://REF          a registry reference
//	oci:DIR[:TAG|@DIGEST]       an OCI image layout
//	docker-archive:FILE[:REF]   a docker save tarball
//
// Errors name the part that is wrong.
func ParseLocation(s string) (Location, error) {
	switch {
	case strings.HasPrefix(s, "oci:"):
		return parseLayout(s, strings.TrimPrefix(s, "oci:"))
	case strings.HasPrefix(s, "docker-archive:"):
		return parseArchive(s, strings.TrimPrefix(s, "docker-archive:"))
	case strings.HasPrefix(s, "docker://"):
		s = strings.TrimPrefix(s, "docker://")
	case strings.HasPrefix(s, "oci-archive:"), strings.HasPrefix(s, "dir:"), strings.HasPrefix(s, "containers-storage:"),
		strings.HasPrefix(s, "docker-daemon:"):
		kind, _, _ := strings.Cut(s, ":")
		return Location{}, fmt.Errorf("%q: hoist does not handle %s: locations; use a registry reference, oci:DIR[:TAG] or docker-archive:FILE[:REF]", s, kind)
	}
	ref, err := reference.Parse(s)
	if err != nil {
		return Location{}, err
	}
	return Location{Kind: Registry, Ref: ref}, nil
}

func parseLayout(s, rest string) (Location, error) {
	l := Location{Kind: OCILayout, Path: rest}
	if i := strings.LastIndex(rest, "@"); i >= 0 && strings.Contains(rest[i:], ":") {
		d := digest.Digest(rest[i+1:])
		if err := d.Validate(); err != nil {
			return Location{}, fmt.Errorf("%q: invalid digest %q: %v", s, d, err)
		}
		l.Path, l.Tag = rest[:i], d.String()
	} else if i := strings.LastIndex(rest, ":"); i >= 0 && !strings.Contains(rest[i:], "/") {
		l.Path, l.Tag = rest[:i], rest[i+1:]
		if err := reference.ValidateTag(l.Tag); err != nil {
			return Location{}, fmt.Errorf("%q: %w", s, err)
		}
	}
	if l.Path == "" {
		return Location{}, fmt.Errorf("%q: the layout directory is missing; write oci:DIR[:TAG]", s)
	}
	return l, nil
}

func parseArchive(s, rest string) (Location, error) {
	l := Location{Kind: DockerArchive, Path: rest}
	if path, ref, ok := strings.Cut(rest, ":"); ok {
		l.Path = path
		r, err := reference.Parse(ref)
		if err != nil {
			return Location{}, fmt.Errorf("%q: the image reference after the file name: %w", s, err)
		}
		if r.Digest != "" {
			return Location{}, fmt.Errorf("%q: a docker archive names images by tag, not digest", s)
		}
		l.Ref = r
	}
	if l.Path == "" {
		return Location{}, fmt.Errorf("%q: the archive file is missing; write docker-archive:FILE[:REF]", s)
	}
	return l, nil
}
