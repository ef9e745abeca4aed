package reference

import (
	"strings"

	"github.com/opencontainers/go-digest"
)

// officialPrefix is the namespace of Docker Hub's official images.
const officialPrefix = "library/"

// Reference is a parsed, normalised image reference. Values from Parse,
// ParseName and the With... methods are valid and comparable with ==; the
// zero value is not a valid reference and its String is "". A Reference is
// a plain value, safe to copy and to share between goroutines.
type Reference struct {
	// Registry is the registry host[:port] as written, after alias
	// normalisation: "docker.io", "localhost:5000", "[::1]:5000",
	// "registry.example.com". Use APIHost to learn which host to dial.
	Registry string
	// Repository is the path inside the registry: "library/ubuntu",
	// "org/team/app".
	Repository string
	// Tag is "" when the reference has none.
	Tag string
	// Digest is "" when the reference has none; otherwise it is valid.
	Digest digest.Digest
}

// Name returns registry/repository, e.g. "docker.io/library/ubuntu", or ""
// for the zero Reference.
func (r Reference) Name() string {
	if r.Registry == "" && r.Repository == "" {
		return ""
	}
	return r.Registry + "/" + r.Repository
}

// String returns the canonical full form,
// registry/repository[:tag][@digest]. Parse(r.String()) returns r for any
// valid r.
func (r Reference) String() string {
	return withSuffix(r.Name(), r)
}

// Familiar returns docker's short form: Docker Hub's "docker.io/" and an
// official image's "library/" are left out ("ubuntu:22.04", "user/app"),
// other registries are kept ("localhost:5000/x"). Parse(r.Familiar())
// returns r for any valid r: a Docker Hub repository whose first component
// would read as a host ("docker.io/my.org/app") keeps its "docker.io/",
// and an official image named like an image ID keeps its "library/".
func (r Reference) Familiar() string {
	if r.Registry != DefaultRegistry {
		return r.String()
	}
	path := r.Repository
	if rest, ok := strings.CutPrefix(path, officialPrefix); ok && !strings.Contains(rest, "/") && !isImageID(rest) {
		path = rest
	}
	if first, _, nested := strings.Cut(path, "/"); nested && looksLikeHost(first) {
		return r.String()
	}
	return withSuffix(path, r)
}

// withSuffix appends r's ":tag" and "@digest", when set, to name.
func withSuffix(name string, r Reference) string {
	if r.Tag != "" {
		name += ":" + r.Tag
	}
	if r.Digest != "" {
		name += "@" + string(r.Digest)
	}
	return name
}

// Identifier returns what to ask the registry's manifests endpoint for:
// the digest if set, else the tag, else DefaultTag.
func (r Reference) Identifier() string {
	switch {
	case r.Digest != "":
		return string(r.Digest)
	case r.Tag != "":
		return r.Tag
	}
	return DefaultTag
}

// WithTag returns r with its Tag set to tag and its Digest dropped, since
// a digest would pin the content the old tag named. r is not modified. The
// error is an *Error matching ErrInvalid when tag is not a valid tag.
func (r Reference) WithTag(tag string) (Reference, error) {
	if err := ValidateTag(tag); err != nil {
		return Reference{}, err
	}
	r.Tag, r.Digest = tag, ""
	return r, nil
}

// WithDigest returns r with its Digest set to d; the Tag is kept, as in
// "ubuntu:22.04@sha256:...", where the digest decides what is fetched. r is
// not modified. The error is an *Error matching ErrInvalid when d is not a
// valid digest.
func (r Reference) WithDigest(d digest.Digest) (Reference, error) {
	if err := ValidateDigest(d); err != nil {
		return Reference{}, err
	}
	r.Digest = d
	return r, nil
}

// Context returns the repository r lives in: the same Registry and
// Repository, without tag or digest.
func (r Reference) Context() Reference {
	return Reference{Registry: r.Registry, Repository: r.Repository}
}
