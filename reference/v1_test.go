package reference

import (
	"errors"
	"strings"
	"testing"
)

func TestParseV1(t *testing.T) {
	tests := []struct {
		in   string
		want V1Name
		str  string // want.String()
	}{
		{"foo", V1Name{Namespace: "library", Repo: "foo"}, "library/foo"},
		{"library/foo", V1Name{Namespace: "library", Repo: "foo"}, "library/foo"},
		{"foo42/bar", V1Name{Namespace: "foo42", Repo: "bar"}, "foo42/bar"},
		{"foo42/bar:latest", V1Name{Namespace: "foo42", Repo: "bar", Tag: "latest"}, "foo42/bar:latest"},
		{"foo_/b-a_r.", V1Name{Namespace: "foo_", Repo: "b-a_r."}, "foo_/b-a_r."},
		{"a_b_c_d/-", V1Name{Namespace: "a_b_c_d", Repo: "-"}, "a_b_c_d/-"},
		{strings.Repeat("n", 30) + "/r", V1Name{Namespace: strings.Repeat("n", 30), Repo: "r"}, strings.Repeat("n", 30) + "/r"},
		// Private registries: '.', ':' or localhost in the first part.
		{"localhost/foo", V1Name{Index: "localhost", Namespace: "library", Repo: "foo"}, "localhost/library/foo"},
		{"localhost:5000/ns_1/repo:v1", V1Name{Index: "localhost:5000", Namespace: "ns_1", Repo: "repo", Tag: "v1"}, "localhost:5000/ns_1/repo:v1"},
		{"registry.example.com/team/app", V1Name{Index: "registry.example.com", Namespace: "team", Repo: "app"}, "registry.example.com/team/app"},
		{"10.0.0.1:5000/team/app", V1Name{Index: "10.0.0.1:5000", Namespace: "team", Repo: "app"}, "10.0.0.1:5000/team/app"},
		{"[::1]:5000/team/app", V1Name{Index: "[::1]:5000", Namespace: "team", Repo: "app"}, "[::1]:5000/team/app"},
		// Docker's reading of a bare host:port: name and tag.
		{"localhost:5000", V1Name{Namespace: "library", Repo: "localhost", Tag: "5000"}, "library/localhost:5000"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseV1(tt.in)
			if err != nil {
				t.Fatalf("ParseV1(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseV1(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
			if got.String() != tt.str {
				t.Errorf("String() = %q, want %q", got.String(), tt.str)
			}
			if again, err := ParseV1(got.String()); err != nil || again != got {
				t.Errorf("ParseV1(%q) = %#v, %v; want the same name back", got.String(), again, err)
			}
			if want := tt.want.Namespace + "/" + tt.want.Repo; got.Remote() != want {
				t.Errorf("Remote() = %q, want %q", got.Remote(), want)
			}
		})
	}
}

func TestV1NameIndexHost(t *testing.T) {
	pub, err := ParseV1("foo")
	if err != nil {
		t.Fatal(err)
	}
	if !pub.IsPublic() || pub.IndexHost() != "index.docker.io" {
		t.Errorf("public name: IsPublic, IndexHost = %v, %q; want true, index.docker.io", pub.IsPublic(), pub.IndexHost())
	}
	priv, err := ParseV1("localhost:5000/team/app")
	if err != nil {
		t.Fatal(err)
	}
	if priv.IsPublic() || priv.IndexHost() != "localhost:5000" {
		t.Errorf("private name: IsPublic, IndexHost = %v, %q; want false, localhost:5000", priv.IsPublic(), priv.IndexHost())
	}
}

func TestParseV1Errors(t *testing.T) {
	tests := []struct {
		name, in string
		part     string
		want     string
	}{
		{"empty", "", "v1 repository name", `invalid v1 repository name "": empty`},
		{"spaces", "foo ", "v1 repository name", `remove the spaces around it: "foo"`},
		{"scheme", "https://registry.example.com/team/app", "v1 repository name", `remove the scheme "https://"`},
		{"public index host", "index.docker.io/foo", "v1 repository name", `invalid v1 repository name "index.docker.io/foo": write "foo"; the public index is the default`},
		{"public index host with namespace", "index.docker.io/team/app:1", "v1 repository name", `write "team/app:1"; the public index is the default`},
		{"docker.io", "docker.io/foo", "v1 repository name", `write "foo"; the public index is the default`},
		{"digest", "foo@sha256:" + hex64, "v1 repository name", `v1 has no digests; remove "@sha256:`},
		{"two slashes", "a/b/c", "v1 repository name", `"a/b/c" has more than one "/"; v1 names are NAMESPACE/REPO`},
		{"two slashes private", "localhost/team/a/b", "v1 repository name", `"team/a/b" has more than one "/"`},
		{"trailing slash", "team/", "v1 repository name", `ends with "/"; remove it`},
		{"leading slash", "/team", "v1 repository name", `starts with "/"; remove it`},
		{"host only", "localhost:5000/", "v1 repository name", `no repository name`},
		{"namespace short", "abc/app", "v1 namespace", `invalid v1 namespace "abc" in "abc/app": namespaces are 4 to 30 characters of a-z, 0-9 and '_'`},
		{"namespace long", strings.Repeat("n", 31) + "/app", "v1 namespace", `namespaces are 4 to 30 characters`},
		{"namespace dash", "my-team/app", "v1 namespace", `invalid v1 namespace "my-team"`},
		{"namespace uppercase", "Team/app", "v1 namespace", `must be lowercase: write "team"`},
		{"repo uppercase", "team/App", "v1 repository", `invalid v1 repository "App" in "team/App": must be lowercase: write "app"`},
		{"repo bad char", "team/a+b", "v1 repository", `only a-z, 0-9, '-', '_' and '.' are allowed`},
		{"repo dot", "team/.", "v1 repository", `"." and ".." are not repository names`},
		{"repo dotdot", "..", "v1 repository", `"." and ".." are not repository names`},
		{"bad tag", "team/app:-x", "tag", `invalid tag "-x" in "team/app:-x"`},
		{"empty tag", "team/app:", "tag", `empty; write a tag after the ":"`},
		{"bad port", "localhost:0/team/app", "v1 port", `invalid v1 port "0"`},
		{"bad host", "a..b/team/app", "v1 registry host", `empty label in the host name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseV1(tt.in)
			if err == nil {
				t.Fatalf("ParseV1(%q) = %#v, want an error", tt.in, n)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
			var e *Error
			if !errors.As(err, &e) || e.Part != tt.part {
				t.Errorf("error %#v: want an *Error with Part %q", err, tt.part)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, tt.want)
			}
			if n != (V1Name{}) {
				t.Errorf("ParseV1 returned %#v with the error; want the zero V1Name", n)
			}
		})
	}
}
