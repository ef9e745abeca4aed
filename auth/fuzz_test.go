package auth

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParseChallenges checks that the parser never panics and that what it
// accepts survives a round trip through Challenge.String.
func FuzzParseChallenges(f *testing.F) {
	for _, s := range []string{
		`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"`,
		`Basic realm="a, b", Bearer realm="x\"y", error=insufficient_scope`,
		`Negotiate abc==, Basic`,
		`Bearer realm=`, `,,`, `"`, `Basic a!b`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		cs, err := ParseChallenges(header)
		if err != nil {
			return
		}
		parts := make([]string, len(cs))
		for i, c := range cs {
			if c.Scheme == "" || c.Scheme != strings.ToLower(c.Scheme) {
				t.Fatalf("bad scheme %q from %q", c.Scheme, header)
			}
			parts[i] = c.String()
		}
		again, err := ParseChallenges(strings.Join(parts, ", "))
		if err != nil {
			t.Fatalf("%q parsed, but its rendering %q does not: %v", header, strings.Join(parts, ", "), err)
		}
		if !reflect.DeepEqual(again, cs) {
			t.Fatalf("round trip of %q changed\n%#v\nto\n%#v", header, cs, again)
		}
	})
}
