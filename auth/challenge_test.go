package auth

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseChallenges(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   []Challenge
	}{
		{"docker hub bearer", `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"`,
			[]Challenge{{Scheme: "bearer", Params: map[string]string{"realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/alpine:pull"}}}},
		{"basic with realm", `Basic realm="Registry Realm"`,
			[]Challenge{{Scheme: "basic", Params: map[string]string{"realm": "Registry Realm"}}}},
		{"several challenges in one header", `Basic realm="a, b", Bearer realm="https://t/token", service=svc, error="insufficient_scope"`,
			[]Challenge{
				{Scheme: "basic", Params: map[string]string{"realm": "a, b"}},
				{Scheme: "bearer", Params: map[string]string{"realm": "https://t/token", "service": "svc", "error": "insufficient_scope"}},
			}},
		{"quoted string with commas and escapes", `Bearer realm="x\"y\\z,w", scope="repository:a:pull,push repository:b:pull"`,
			[]Challenge{{Scheme: "bearer", Params: map[string]string{"realm": `x"y\z,w`, "scope": "repository:a:pull,push repository:b:pull"}}}},
		{"token68", `Negotiate YWxhZGRpbjpvcGVuc2VzYW1l==, Basic`,
			[]Challenge{{Scheme: "negotiate", Token68: "YWxhZGRpbjpvcGVuc2VzYW1l=="}, {Scheme: "basic"}}},
		{"case and white space", "  BEARER  Realm = \"r\" ,\t,SERVICE=s  ,  ",
			[]Challenge{{Scheme: "bearer", Params: map[string]string{"realm": "r", "service": "s"}}}},
		{"first duplicate wins", `Bearer realm="a", realm="b"`,
			[]Challenge{{Scheme: "bearer", Params: map[string]string{"realm": "a"}}}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseChallenges(tt.header)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseChallengesErrors(t *testing.T) {
	for _, h := range []string{
		`Bearer realm="unterminated`,
		`Bearer service=x, realm=`,
		`Bearer realm="a" service="b"`, // missing comma
		`Basic foo bar`,
		`="x"`,
		`Bearer realm="bad\` + "\x01" + `"`,
		"Bearer realm=\"line\nbreak\"",
	} {
		t.Run(h, func(t *testing.T) {
			if cs, err := ParseChallenges(h); err == nil {
				t.Fatalf("parsed %#v, want an error", cs)
			} else if !strings.Contains(err.Error(), "WWW-Authenticate") {
				t.Fatalf("error does not name the header: %v", err)
			}
		})
	}
}

func TestChallengeStringRoundTrip(t *testing.T) {
	c := Challenge{Scheme: "bearer", Params: map[string]string{"realm": `a "quoted" \ realm, with commas`, "service": "s"}}
	got, err := ParseChallenges(c.String())
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], c) {
		t.Fatalf("%q parsed to %#v, %v", c.String(), got, err)
	}
}
