package reference

import (
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestForms(t *testing.T) {
	tests := []struct {
		in                      string
		str, familiar, name, id string
	}{
		{"ubuntu", "docker.io/library/ubuntu", "ubuntu", "docker.io/library/ubuntu", "latest"},
		{"ubuntu:22.04", "docker.io/library/ubuntu:22.04", "ubuntu:22.04", "docker.io/library/ubuntu", "22.04"},
		{"docker.io/library/ubuntu:22.04", "docker.io/library/ubuntu:22.04", "ubuntu:22.04", "docker.io/library/ubuntu", "22.04"},
		{"index.docker.io/user/app", "docker.io/user/app", "user/app", "docker.io/user/app", "latest"},
		{"library/a/b", "docker.io/library/a/b", "library/a/b", "docker.io/library/a/b", "latest"},
		{"localhost:5000/x", "localhost:5000/x", "localhost:5000/x", "localhost:5000/x", "latest"},
		{"localhost/x:t", "localhost/x:t", "localhost/x:t", "localhost/x", "t"},
		{"[::1]:5000/x", "[::1]:5000/x", "[::1]:5000/x", "[::1]:5000/x", "latest"},
		{"ubuntu:22.04@" + string(dgst), "docker.io/library/ubuntu:22.04@" + string(dgst), "ubuntu:22.04@" + string(dgst), "docker.io/library/ubuntu", string(dgst)},
		{"x@" + string(dgst), "docker.io/library/x@" + string(dgst), "x@" + string(dgst), "docker.io/library/x", string(dgst)},
		// A Docker Hub path whose first component reads as a host keeps
		// docker.io/, or the short form would name another registry.
		{"docker.io/my.org/app", "docker.io/my.org/app", "docker.io/my.org/app", "docker.io/my.org/app", "latest"},
		{"docker.io/localhost/app", "docker.io/localhost/app", "docker.io/localhost/app", "docker.io/localhost/app", "latest"},
		{"docker.io/library/localhost", "docker.io/library/localhost", "localhost", "docker.io/library/localhost", "latest"},
		{"docker.io/library/a.b:1", "docker.io/library/a.b:1", "a.b:1", "docker.io/library/a.b", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := r.Familiar(); got != tt.familiar {
				t.Errorf("Familiar() = %q, want %q", got, tt.familiar)
			}
			if got := r.Name(); got != tt.name {
				t.Errorf("Name() = %q, want %q", got, tt.name)
			}
			if got := r.Identifier(); got != tt.id {
				t.Errorf("Identifier() = %q, want %q", got, tt.id)
			}
			if back, err := Parse(r.Familiar()); err != nil || back != r {
				t.Errorf("Parse(Familiar()) = %#v, %v; want %#v", back, err, r)
			}
		})
	}
}

func TestZeroReference(t *testing.T) {
	var r Reference
	if r.String() != "" || r.Name() != "" || r.Familiar() != "" {
		t.Errorf("zero Reference: String, Name, Familiar = %q, %q, %q; want empty", r.String(), r.Name(), r.Familiar())
	}
}

func TestWithTag(t *testing.T) {
	r, err := Parse("localhost:5000/app:old@" + string(dgst))
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.WithTag("new")
	if err != nil {
		t.Fatal(err)
	}
	want := Reference{Registry: "localhost:5000", Repository: "app", Tag: "new"}
	if got != want {
		t.Errorf("WithTag(new) = %#v, want %#v (digest dropped)", got, want)
	}
	if r.Tag != "old" || r.Digest != dgst {
		t.Errorf("WithTag modified its receiver: %#v", r)
	}
	for _, bad := range []string{"", "-x", ".x", strings.Repeat("t", 129), "a/b", "a:b"} {
		t.Run(bad, func(t *testing.T) {
			got, err := r.WithTag(bad)
			if !errors.Is(err, ErrInvalid) || got != (Reference{}) {
				t.Errorf("WithTag(%q) = %#v, %v; want the zero Reference and ErrInvalid", bad, got, err)
			}
		})
	}
}

func TestWithDigest(t *testing.T) {
	r, err := Parse("ubuntu:22.04")
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.WithDigest(dgst)
	if err != nil {
		t.Fatal(err)
	}
	if got.Tag != "22.04" || got.Digest != dgst || got.String() != "docker.io/library/ubuntu:22.04@"+string(dgst) {
		t.Errorf("WithDigest = %#v; want the tag kept and the digest set", got)
	}
	if r.Digest != "" {
		t.Errorf("WithDigest modified its receiver: %#v", r)
	}
	for _, bad := range []digest.Digest{"", "sha256:abc", "sha256:" + digest.Digest(strings.ToUpper(hex64)), digest.Digest("md5:" + hex64[:32]), hex64} {
		t.Run(string(bad), func(t *testing.T) {
			got, err := r.WithDigest(bad)
			if !errors.Is(err, ErrInvalid) || got != (Reference{}) {
				t.Errorf("WithDigest(%q) = %#v, %v; want the zero Reference and ErrInvalid", bad, got, err)
			}
		})
	}
}

func TestContext(t *testing.T) {
	r, err := Parse("[::1]:5000/a/b:t@" + string(dgst))
	if err != nil {
		t.Fatal(err)
	}
	want := Reference{Registry: "[::1]:5000", Repository: "a/b"}
	if got := r.Context(); got != want {
		t.Errorf("Context() = %#v, want %#v", got, want)
	}
}

func TestDockerHubHosts(t *testing.T) {
	tests := []struct {
		registry string
		hub      bool
		api      string
	}{
		{"docker.io", true, "registry-1.docker.io"},
		{"index.docker.io", true, "registry-1.docker.io"},
		{"registry-1.docker.io", true, "registry-1.docker.io"},
		{"Docker.IO", true, "registry-1.docker.io"},
		{"docker.io:443", false, "docker.io:443"},
		{"localhost:5000", false, "localhost:5000"},
		{"ghcr.io", false, "ghcr.io"},
		{"[::1]:5000", false, "[::1]:5000"},
	}
	for _, tt := range tests {
		t.Run(tt.registry, func(t *testing.T) {
			if got := IsDockerHub(tt.registry); got != tt.hub {
				t.Errorf("IsDockerHub = %v, want %v", got, tt.hub)
			}
			if got := APIHost(tt.registry); got != tt.api {
				t.Errorf("APIHost = %q, want %q", got, tt.api)
			}
		})
	}
}

func TestValidateTag(t *testing.T) {
	for _, ok := range []string{"latest", "_", "0", "v1.2.3-rc.1_x", strings.Repeat("a", 128)} {
		if err := ValidateTag(ok); err != nil {
			t.Errorf("ValidateTag(%q) = %v", ok, err)
		}
	}
	tests := []struct{ tag, want string }{
		{"", `invalid tag "": empty; tags start with`},
		{"-x", `invalid tag "-x": tags start with a letter, digit or underscore and are at most 128 characters`},
		{strings.Repeat("a", 129), "this one has 129"},
		{"a b", `' ' is not allowed`},
		{"é", `tags start with`},
	}
	for _, tt := range tests {
		t.Run(tt.tag, func(t *testing.T) {
			err := ValidateTag(tt.tag)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ValidateTag(%q) = %v; want ErrInvalid containing %q", tt.tag, err, tt.want)
			}
		})
	}
}

func TestErrorFromFields(t *testing.T) {
	e := &Error{Input: "x:-y", Part: "tag", Value: "-y", Reason: "bad"}
	if got, want := e.Error(), `invalid tag "-y" in "x:-y": bad`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, ErrInvalid) {
		t.Error("an *Error built by a caller does not match ErrInvalid")
	}
}

func TestBadCharacterIsNamedWhole(t *testing.T) {
	tests := []struct{ in, want string }{
		{"x:aé", `'é' is not allowed`},
		{"caf\xc3\xa9/x", `'é' is not allowed`},
		{"a\xffb", `"\xff" is not allowed`},
		{"ex\u00e4mple.com/x", `'ä' is not allowed in a host name`},
		{"x@sha256:é" + hex64[2:], `'é' is not a hex digit`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) = %v; want an error containing %q", tt.in, err, tt.want)
			}
		})
	}
}
