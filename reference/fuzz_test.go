package reference

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	dref "github.com/distribution/reference"
)

var fuzzSeeds = []string{
	"ubuntu", "ubuntu:22.04", "user/app", "docker.io/library/ubuntu", "index.docker.io/ubuntu",
	"registry-1.docker.io/a/b", "Docker.IO/x", "localhost", "localhost/x", "localhost:5000",
	"localhost:5000/x:t", "127.0.0.1:5000/x", "[::1]:5000/x", "[::1]/x", "[::1]", "a:b:c",
	"Foo", "a//b", "a/", "/a", "x@sha256:" + hex64, "x:t@sha256:" + hex64, "x@sha256:abc",
	"https://x.io/a", "a.b_c__d-e---f",
	"foo42/bar:latest", "index.docker.io/foo", "host:0/x", ":5000/x", "::1/x",
}

// maxFuzzInput bounds the inputs the reference targets look at. The
// longest valid reference is about 460 bytes (a 255-byte name, a 128-byte
// tag, a sha512 digest); longer inputs only fail the length rules, and
// letting the fuzzer grow them makes each new input slow to minimise.
const maxFuzzInput = 1024

// FuzzParse checks that Parse never panics, that every reference it
// accepts comes back unchanged from its String and Familiar forms, that
// every rejection is a one-line *Error matching ErrInvalid, and that it
// agrees with docker's own parser (github.com/distribution/reference):
// what hoist accepts docker accepts and normalises to the same string, and
// what docker accepts hoist refuses only where it is stricter on purpose
// (ports outside 1-65535, IPv6 literals that are not addresses, names over
// 255 characters counting the registry).
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > maxFuzzInput {
			return
		}
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
	docker, dockerErr := dref.ParseNormalizedNamed(s)
	if err != nil {
		var e *Error
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &e) || e.Input != s {
			t.Fatalf("Parse(%q) error %v is not an *Error for this input matching ErrInvalid", s, err)
		}
		checkMessage(t, s, err)
		if dockerErr == nil && !stricterOnPurpose(e, docker) {
			t.Fatalf("Parse(%q) refuses what docker accepts as %q: %v", s, docker.String(), err)
		}
		return
	}
	if dockerErr != nil {
		t.Fatalf("Parse(%q) = %q, but docker refuses it: %v", s, r.String(), dockerErr)
	}
	if want := dockerString(docker); want != r.String() {
		t.Fatalf("Parse(%q) = %q, docker normalises it to %q", s, r.String(), want)
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

// dockerString is docker's normalised form of n, with the one
// normalisation hoist adds: every Docker Hub alias, in any case
// ("registry-1.docker.io", "Docker.IO"), is "docker.io", as docker's
// credential lookup treats them, where docker's parser keeps them as
// written.
func dockerString(n dref.Named) string {
	s := n.String()
	if domain := dref.Domain(n); IsDockerHub(domain) && domain != DefaultRegistry {
		path := dref.Path(n)
		if !strings.Contains(path, "/") {
			path = officialPrefix + path
		}
		s = DefaultRegistry + "/" + path + strings.TrimPrefix(s, domain+"/"+dref.Path(n))
	}
	return s
}

// stricterOnPurpose reports whether e, for an input docker parses as
// docker, is a refusal where hoist is stricter by design: a port docker's
// grammar lets through (0, 99999), an IPv6 literal that is not an address
// ("[:::]"), an upper-case first component such as "User/app", which
// docker takes for a registry host and hoist for a repository that must be
// lowercase (see looksLikeHost), and a host docker's grammar refuses but
// then reads as the first path component, leaving a name with no registry
// ("0.0_0/x", where docker's splitter saw a host and its grammar did not).
func stricterOnPurpose(e *Error, docker dref.Named) bool {
	domain := dref.Domain(docker)
	upperHost := strings.ToLower(domain) != domain && !looksLikeHost(domain)
	return e.Part == "port" || e.Part == "registry host" && strings.HasPrefix(e.Value, "[") ||
		e.Reason == "must be lowercase" && upperHost ||
		domain == "" ||
		// docker's parser (since v0.6) counts the repository path alone
		// against the 255-character limit; hoist counts the registry too.
		len(docker.Name()) > NameTotalLengthMax
}

// checkMessage asserts that an error reads as one line that quotes the
// input, so that a hostile reference cannot forge lines in a log.
func checkMessage(t *testing.T, s string, err error) {
	t.Helper()
	msg := err.Error()
	if strings.ContainsAny(msg, "\r\n") {
		t.Fatalf("error for %q spans lines: %q", s, msg)
	}
	if !strings.Contains(msg, strconv.Quote(s)) && !strings.Contains(msg, strconv.Quote(err.(*Error).Value)) {
		t.Fatalf("error for %q quotes neither the input nor the bad part: %q", s, msg)
	}
}

// FuzzParseV1 checks that ParseV1 never panics, that every name it
// accepts follows the v1 rules and comes back unchanged from its String
// form, and that every rejection is a one-line *Error.
func FuzzParseV1(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > maxFuzzInput {
			return
		}
		n, err := ParseV1(s)
		if err != nil {
			var e *Error
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &e) || e.Input != s {
				t.Fatalf("ParseV1(%q) error %v is not an *Error for this input matching ErrInvalid", s, err)
			}
			checkMessage(t, s, err)
			return
		}
		switch {
		case !v1NamespaceRE.MatchString(n.Namespace), !v1RepoRE.MatchString(n.Repo), n.Repo == ".", n.Repo == "..":
			t.Fatalf("ParseV1(%q) = %#v breaks the v1 name rules", s, n)
		case n.Tag != "" && ValidateTag(n.Tag) != nil:
			t.Fatalf("ParseV1(%q) = %#v with an invalid tag", s, n)
		case n.Index != "" && (IsDockerHub(n.Index) || checkHost(n.Index, "", n.Index) != nil):
			t.Fatalf("ParseV1(%q) = %#v: index %q is Docker Hub or not a host", s, n, n.Index)
		case strings.ContainsAny(n.String(), "@ \t\r\n"):
			t.Fatalf("ParseV1(%q) = %#v, whose String %q could not go into a v1 URL path", s, n, n.String())
		}
		back, err := ParseV1(n.String())
		if err != nil || back != n {
			t.Fatalf("ParseV1(%q) = %#v, but ParseV1(%q) = %#v, %v", s, n, n.String(), back, err)
		}
	})
}
