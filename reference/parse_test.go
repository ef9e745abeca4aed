package reference

import (
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

const (
	hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	dgst  = digest.Digest("sha256:" + hex64)
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Reference
	}{
		// Docker Hub defaults and the library/ prefix.
		{"ubuntu", Reference{Registry: "docker.io", Repository: "library/ubuntu"}},
		{"ubuntu:22.04", Reference{Registry: "docker.io", Repository: "library/ubuntu", Tag: "22.04"}},
		{"user/app", Reference{Registry: "docker.io", Repository: "user/app"}},
		{"library/ubuntu", Reference{Registry: "docker.io", Repository: "library/ubuntu"}},
		{"org/team/app:v1", Reference{Registry: "docker.io", Repository: "org/team/app", Tag: "v1"}},
		{"docker.io/ubuntu", Reference{Registry: "docker.io", Repository: "library/ubuntu"}},
		{"docker.io/library/ubuntu", Reference{Registry: "docker.io", Repository: "library/ubuntu"}},
		// Aliases of Docker Hub, in any case.
		{"index.docker.io/ubuntu", Reference{Registry: "docker.io", Repository: "library/ubuntu"}},
		{"registry-1.docker.io/user/app:1", Reference{Registry: "docker.io", Repository: "user/app", Tag: "1"}},
		{"Index.Docker.IO/ubuntu", Reference{Registry: "docker.io", Repository: "library/ubuntu"}},
		{"DOCKER.IO/user/app", Reference{Registry: "docker.io", Repository: "user/app"}},
		// A port makes it another registry.
		{"docker.io:443/app", Reference{Registry: "docker.io:443", Repository: "app"}},
		// Other registries: no library/ prefix.
		{"registry.example.com/app", Reference{Registry: "registry.example.com", Repository: "app"}},
		{"Registry.Example.COM/app", Reference{Registry: "Registry.Example.COM", Repository: "app"}},
		{"localhost/app", Reference{Registry: "localhost", Repository: "app"}},
		{"localhost:5000/app", Reference{Registry: "localhost:5000", Repository: "app"}},
		{"localhost:5000/a/b/c:t", Reference{Registry: "localhost:5000", Repository: "a/b/c", Tag: "t"}},
		{"127.0.0.1:5000/x", Reference{Registry: "127.0.0.1:5000", Repository: "x"}},
		{"10.0.0.1/x", Reference{Registry: "10.0.0.1", Repository: "x"}},
		{"[::1]:5000/x", Reference{Registry: "[::1]:5000", Repository: "x"}},
		{"[::1]/x", Reference{Registry: "[::1]", Repository: "x"}},
		{"[::1]/x:1", Reference{Registry: "[::1]", Repository: "x", Tag: "1"}},
		{"[2001:db8::1]:65535/x", Reference{Registry: "[2001:db8::1]:65535", Repository: "x"}},
		{"host:1/x", Reference{Registry: "host:1", Repository: "x"}},
		{"my-registry.io/x", Reference{Registry: "my-registry.io", Repository: "x"}},
		// Without '.', ':' or "localhost", the first component is a path.
		{"localhostx/app", Reference{Registry: "docker.io", Repository: "localhostx/app"}},
		// Docker's reading of a bare host:port: name and tag.
		{"localhost:5000", Reference{Registry: "docker.io", Repository: "library/localhost", Tag: "5000"}},
		{"example.com:5000", Reference{Registry: "docker.io", Repository: "library/example.com", Tag: "5000"}},
		// Tag and digest, alone and together.
		{"ubuntu@" + string(dgst), Reference{Registry: "docker.io", Repository: "library/ubuntu", Digest: dgst}},
		{"ubuntu:22.04@" + string(dgst), Reference{Registry: "docker.io", Repository: "library/ubuntu", Tag: "22.04", Digest: dgst}},
		{"localhost:5000/x:t@" + string(dgst), Reference{Registry: "localhost:5000", Repository: "x", Tag: "t", Digest: dgst}},
		{"x@sha512:" + strings.Repeat("ab", 64), Reference{Registry: "docker.io", Repository: "library/x", Digest: digest.Digest("sha512:" + strings.Repeat("ab", 64))}},
		{"x@sha384:" + strings.Repeat("ab", 48), Reference{Registry: "docker.io", Repository: "library/x", Digest: digest.Digest("sha384:" + strings.Repeat("ab", 48))}},
		// Path component separators.
		{"x/a.b_c__d-e---f", Reference{Registry: "docker.io", Repository: "x/a.b_c__d-e---f"}},
		{"0/1", Reference{Registry: "docker.io", Repository: "0/1"}},
		// Tags.
		{"x:_", Reference{Registry: "docker.io", Repository: "library/x", Tag: "_"}},
		{"x:A.b-C_9", Reference{Registry: "docker.io", Repository: "library/x", Tag: "A.b-C_9"}},
		{"x:" + strings.Repeat("t", 128), Reference{Registry: "docker.io", Repository: "library/x", Tag: strings.Repeat("t", 128)}},
		// Exactly at the length limit: "docker.io/" is 10 characters.
		{"u/" + strings.Repeat("a", 243), Reference{Registry: "docker.io", Repository: "u/" + strings.Repeat("a", 243)}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
			again, err := Parse(got.String())
			if err != nil || again != got {
				t.Fatalf("Parse(%q) = %#v, %v; want the same reference back", got.String(), again, err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		part     string // Error.Part
		want     string // a substring of the message
	}{
		{"empty", "", "reference", `invalid reference "": empty`},
		{"spaces", " ubuntu", "reference", `remove the spaces around it: "ubuntu"`},
		{"scheme https", "https://registry.example.com/app", "reference", `remove the scheme "https://": write "registry.example.com/app"`},
		{"scheme docker", "docker://ubuntu", "reference", `remove the scheme "docker://"`},
		{"two colons", "a:b:c", "reference", `invalid reference "a:b:c": unexpected ":" in "a:b"`},
		{"colon in path", "x/a:b/c", "reference", `unexpected ":" in "a:b"`},
		{"uppercase", "Foo", "repository", `repository name must be lowercase: "Foo"`},
		{"uppercase with tag", "user/Foo:1", "repository", `repository name must be lowercase: "user/Foo" in "user/Foo:1"`},
		{"uppercase after host", "localhost/Foo", "repository", `repository name must be lowercase: "Foo"`},
		{"double slash", "a//b", "repository", `invalid repository "a//b": empty path component; remove the extra "/"`},
		{"trailing slash", "a/", "repository", `ends with "/"; remove it`},
		{"leading slash", "/a", "repository", `starts with "/"; remove it`},
		{"host only", "localhost/", "reference", `no repository after the registry "localhost"`},
		{"host and double slash", "example.com//x", "repository", `starts with "/"`},
		{"no name", ":tag", "reference", `no repository name`},
		{"no name digest", "@" + string(dgst), "reference", `no repository name`},
		{"bad char", "a!b", "repository path component", `invalid repository path component "a!b": '!' is not allowed`},
		{"leading separator", "_a/b", "repository path component", `must start and end with a lowercase letter or digit`},
		{"trailing separator", "a/b.", "repository path component", `must start and end`},
		{"double dot", "a..b", "repository path component", `separator ".." is not allowed`},
		{"three underscores", "a___b", "repository path component", `separator "___" is not allowed`},
		{"mixed separator", "a._b", "repository path component", `separator "._" is not allowed`},
		{"too long", "u/" + strings.Repeat("a", 244), "reference", `the name is 256 characters long counting the registry "docker.io"; the limit is 255`},
		{"too long library", strings.Repeat("a", 238), "reference", `is 256 characters long`},
		{"image ID", hex64, "reference", `64 hex digits are an image ID, not a name; to name an image by digest write NAME@sha256:` + hex64},
		// Tags.
		{"tag dash", "ubuntu:-x", "tag", `invalid tag "-x" in "ubuntu:-x": tags start with a letter, digit or underscore and are at most 128 characters`},
		{"tag dot", "ubuntu:.x", "tag", `tags start with a letter, digit or underscore`},
		{"tag empty", "ubuntu:", "tag", `invalid tag "" in "ubuntu:": empty; write a tag after the ":"`},
		{"tag too long", "x:" + strings.Repeat("t", 129), "tag", `at most 128 characters; this one has 129`},
		{"tag bad char", "x:a+b", "tag", `'+' is not allowed; tags hold only`},
		// Digests.
		{"digest short", "x@sha256:abc", "digest", `invalid digest "sha256:abc" in "x@sha256:abc": sha256 needs 64 hex digits, this has 3`},
		{"digest long", "x@sha256:" + hex64 + "0", "digest", `sha256 needs 64 hex digits, this has 65`},
		{"digest uppercase", "x@sha256:" + strings.ToUpper(hex64), "digest", `hex digits must be lowercase: write "sha256:` + hex64 + `"`},
		{"digest not hex", "x@sha256:zz", "digest", `invalid digest "sha256:zz" in "x@sha256:zz": 'z' is not a hex digit`},
		{"digest unknown algorithm", "x@md5:" + hex64[:32], "digest", `unknown algorithm "md5"; use sha256, sha384 or sha512`},
		{"digest uppercase algorithm", "x@SHA256:" + hex64, "digest", `the algorithm must be lowercase: write "sha256:`},
		{"digest no algorithm", "x@" + hex64, "digest", `missing the "ALGORITHM:" prefix`},
		{"digest empty", "x@", "digest", `empty; write ALGORITHM:HEX after the "@"`},
		{"digest two at", "x@sha256:" + hex64 + "@" + string(dgst), "digest", `'@' is not a hex digit`},
		{"digest empty hex", "x@sha256:", "digest", `sha256 needs 64 hex digits, this has 0`},
		// Hosts and ports.
		{"port zero", "localhost:0/x", "port", `invalid port "0" in "localhost:0/x": ports are numbers from 1 to 65535`},
		{"port too big", "localhost:65536/x", "port", `invalid port "65536"`},
		{"port huge", "localhost:99999999999999999999/x", "port", `ports are numbers from 1 to 65535`},
		{"port empty", "localhost:/x", "port", `invalid port ""`},
		{"port letters", "host:abc/x", "port", `invalid port "abc"`},
		{"port sign", "host:+80/x", "port", `invalid port "+80"`},
		{"host empty", ":5000/x", "registry host", `the host name is empty`},
		{"host empty label", "a..b/x", "registry host", `empty label in the host name`},
		{"host trailing dot", "example.com./x", "registry host", `empty label in the host name`},
		{"host bad char", "ex_ample.com/x", "registry host", `'_' is not allowed in a host name`},
		{"host dash", "-example.com/x", "registry host", `starts or ends with '-'`},
		{"ipv6 without brackets", "::1/x", "registry host", `an IPv6 address goes in brackets`},
		{"ipv6 without path", "[::1]:5000", "reference", `a registry host needs a repository after it, e.g. "[::1]:5000/app"`},
		{"ipv6 bare", "[::1]", "reference", `a registry host needs a repository after it`},
		{"ipv6 unclosed", "[::1/x", "registry host", `missing "]"`},
		{"ipv6 bad", "[::g]/x", "registry host", `"::g" is not an IPv6 address`},
		{"ipv6 not v6", "[1234]/x", "registry host", `"1234" is not an IPv6 address`},
		{"ipv6 zone", "[fe80::1%25eth0]/x", "registry host", `is not an IPv6 address`},
		{"ipv6 junk after", "[::1]x/y", "registry host", `unexpected "x" after "]"`},
		{"ipv6 bad port", "[::1]:0/x", "port", `invalid port "0"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %#v, want an error", tt.in, ref)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if e.Part != tt.part || e.Input != tt.in {
				t.Errorf("Part, Input = %q, %q; want %q, %q", e.Part, e.Input, tt.part, tt.in)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, tt.want)
			}
			if ref != (Reference{}) {
				t.Errorf("Parse returned %#v with the error; want the zero Reference", ref)
			}
		})
	}
}

func TestDigestErrorUnwrapsToGoDigest(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"x@sha256:abc", digest.ErrDigestInvalidLength},
		{"x@sha256:" + strings.ToUpper(hex64), digest.ErrDigestInvalidFormat},
		{"x@md5:" + hex64[:32], digest.ErrDigestUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(tt.in)
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) = %v; want it to match %v and ErrInvalid", tt.in, err, tt.want)
			}
		})
	}
}

func TestParseName(t *testing.T) {
	tests := []struct {
		in      string
		want    Reference
		wantErr string
	}{
		{in: "ubuntu", want: Reference{Registry: "docker.io", Repository: "library/ubuntu"}},
		{in: "localhost:5000/a/b", want: Reference{Registry: "localhost:5000", Repository: "a/b"}},
		{in: "ubuntu:22.04", wantErr: `invalid repository name "ubuntu:22.04": a name takes no tag; write "ubuntu"`},
		{in: "ubuntu@" + string(dgst), wantErr: `a name takes no digest; write "ubuntu"`},
		{in: "ubuntu:1@" + string(dgst), wantErr: `a name takes no digest; write "ubuntu"`},
		{in: "localhost:5000", wantErr: `a name takes no tag; write "localhost", or "localhost:5000/REPOSITORY" if "localhost:5000" is a registry`},
		{in: "Foo", wantErr: `repository name must be lowercase: "Foo"`},
		{in: "", wantErr: `invalid reference "": empty`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseName(tt.in)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseName(%q) = %#v, %v; want an ErrInvalid containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseName(%q) = %#v, %v; want %#v", tt.in, got, err, tt.want)
			}
		})
	}
}
