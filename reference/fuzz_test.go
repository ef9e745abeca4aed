package reference

import (
	"errors"
	"testing"
)

var fuzzSeeds = []string{
	"ubuntu", "ubuntu:22.04", "user/app", "docker.io/library/ubuntu", "index.docker.io/ubuntu",
	"registry-1.docker.io/a/b", "Docker.IO/x", "localhost", "localhost/x", "localhost:5000",
	"localhost:5000/x:t", "127.0.0.1:5000/x", "[::1]:5000/x", "[::1]/x", "[::1]", "a:b:c",
	"Foo", "a//b", "a/", "/a", "x@sha256:" + hex64, "x:t@sha256:" + hex64, "x@sha256:abc",
	"https://x.io/a", "a.b_c__d-e---f",
	"foo42/bar:latest", "index.docker.io/foo", "host:0/x", ":5000/x", "::1/x",
}

// FuzzParse checks that Parse never panics, that every reference it
// accepts comes back unchanged from its String and Familiar forms, and that
// every rejection is an *Error matching ErrInvalid.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// The registry decides how a reference shortens, so each input is
		// also tried on Docker Hub and on a private registry.
		for _, in := range []string{s, "docker.io/" + s, "localhost:5000/" + s} {
			checkParse(t, in)
		}
	})
}

// checkParse asserts FuzzParse's properties for one input.
func checkParse(t *testing.T, s string) {
	t.Helper()
	r, err := Parse(s)
	if err != nil {
		var e *Error
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &e) || e.Input != s {
			t.Fatalf("Parse(%q) error %v is not an *Error for this input matching ErrInvalid", s, err)
		}
		return
	}
	if r.Registry == "" || r.Repository == "" || len(r.Name()) > NameTotalLengthMax {
		t.Fatalf("Parse(%q) = %#v: empty part or name too long", s, r)
	}
	for _, form := range []string{r.String(), r.Familiar()} {
		back, err := Parse(form)
		if err != nil {
			t.Fatalf("Parse(%q) = %#v, whose form %q does not parse: %v", s, r, form, err)
		}
		if back != r {
			t.Fatalf("Parse(%q) = %#v, but its form %q parses as %#v", s, r, form, back)
		}
	}
	if name, err := ParseName(r.Name()); err != nil || name != r.Context() {
		t.Fatalf("ParseName(%q) = %#v, %v; want %#v", r.Name(), name, err, r.Context())
	}
}

// FuzzParseV1 checks that ParseV1 never panics and that every name it
// accepts comes back unchanged from its String form.
func FuzzParseV1(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseV1(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseV1(%q) error %v does not match ErrInvalid", s, err)
			}
			return
		}
		back, err := ParseV1(n.String())
		if err != nil || back != n {
			t.Fatalf("ParseV1(%q) = %#v, but ParseV1(%q) = %#v, %v", s, n, n.String(), back, err)
		}
	})
}
