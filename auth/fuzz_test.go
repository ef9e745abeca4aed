package auth

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hoist-dev/hoist/internal/fuzzcheck"
)

// maxChallengeError bounds an error from ParseChallenges: it quotes the
// header, and a hostile registry can send a header of a megabyte.
const maxChallengeError = 512

// FuzzParseChallenges checks that the parser never panics, stays linear
// in allocation, returns an error of bounded length, hands out only
// lower-case token schemes and parameter names, and that what it accepts
// survives a round trip through Challenge.String.
func FuzzParseChallenges(f *testing.F) {
	for _, s := range []string{
		`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"`,
		`Basic realm="a, b", Bearer realm="x\"y", error=insufficient_scope`,
		`Negotiate abc==, Basic`,
		`Bearer realm=`, `,,`, `"`, `Basic a!b`,
		`Bearer realm="` + strings.Repeat("x", 4096), // unterminated, long
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		var cs []Challenge
		var err error
		fuzzcheck.Heap(t, "ParseChallenges", len(header), 16, func() { cs, err = ParseChallenges(header) })
		if err != nil {
			if n := len(err.Error()); n > maxChallengeError {
				t.Fatalf("error for a %d-byte header is %d bytes long", len(header), n)
			}
			return
		}
		parts := make([]string, len(cs))
		for i, c := range cs {
			if !isToken(c.Scheme) || c.Scheme != strings.ToLower(c.Scheme) {
				t.Fatalf("bad scheme %q from %q", c.Scheme, header)
			}
			for k := range c.Params {
				if !isToken(k) || k != strings.ToLower(k) {
					t.Fatalf("bad parameter name %q from %q", k, header)
				}
			}
			if c.Token68 != "" && c.Params != nil {
				t.Fatalf("challenge with both token68 and params from %q", header)
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

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return s != ""
}

const fuzzConfigPath = "/home/u/.docker/config.json"

// FuzzConfigFile reads arbitrary bytes as a docker config.json and checks:
// a rejection names the file; what is accepted re-encodes (as hoist writes
// it) to a file that parses to the same members, byte for byte; every
// auths entry decodes or fails naming the file and the key, and never
// quotes a secret; and storing a credential for a host in it, as Put does,
// gives back exactly that credential, while every other member and every
// other registry's entry stays byte for byte as it was.
func FuzzConfigFile(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"auths":{}}`, `{"auths":null,"credsStore":null}`,
		`{"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz","email":"u@x"}},"psFormat":"table"}`,
		`{"auths":{"reg:5000":{"username":"u","password":"p"},"Reg:5000":{"identitytoken":"tok"}}}`,
		`{"auths":{"r":{"auth":"bm90LWJhc2U2NA"}},"credHelpers":{"gcr.io":"gcloud"}}`,
		`{"auths":{"r":{"auth":"!!!secret-not-base64!!!"}}}`,
		`{"auths":{"r":{"username":"only"}}}`,
		`{"auths":{"r":{"auth":5}}}`,
		`{"auths":[]}`, `{"credsStore":1}`, `{"a":1,"a":2}`, `{"auths":{}} trailing`,
		`{"Auths":{"r":{"auth":"dXNlcjpwYXNz"}},"CredsStore":"desktop"}`,
		`{"auths":{"a":{"auth":"YTpi"}},"x":1,"AUTHS":{"b":{"auth":"YTpi"}},"Auths":null}`,
		`{"credHelpers":{"a.io":"one"},"CREDHELPERS":{"b.io":"two"},"credhelpers":null}`,
		"{\"proxies\":{\"default\":{\"httpProxy\":\"http://p:3128\"}},\n\t\"auths\": {\n\t\t\"x.io\": {}\n\t}\n}",
	} {
		f.Add([]byte(s), "reg:5000", "user", "s3cret", uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, host, user, secret string, kind uint8) {
		var cfg *configFile
		var err error
		fuzzcheck.Heap(t, "parseConfig", len(data), 32, func() { cfg, err = parseConfig(fuzzConfigPath, data) })
		if err != nil {
			if !strings.Contains(err.Error(), fuzzConfigPath) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		again := reparse(t, cfg)
		if !sameConfig(cfg, again) {
			t.Fatalf("re-encoding changed the members\n%q\nto\n%q", cfg.obj.members, again.obj.members)
		}
		if cfg.auths != nil {
			for _, m := range cfg.auths.members {
				checkEntry(t, fuzzConfigPath, m.key, m.raw)
			}
		}

		c := fuzzCredential(user, secret, kind)
		if NormalizeHost(host) == "" || c.IsZero() || strings.Contains(c.Username, ":") {
			return // Put refuses these before it touches the file
		}
		if !utf8.ValidString(user) || !utf8.ValidString(secret) {
			return // a JSON string holds text; a token is never anything else
		}
		before := reparse(t, cfg) // a copy to compare with
		putEntry(cfg, host, c)
		after := reparse(t, cfg)
		got, err := lookupAuths(fuzzConfigPath, after.auths, host)
		if err != nil || got != c {
			t.Fatalf("stored %q for %q, read back %q, %v", []string{c.Username, c.Password, c.IdentityToken, c.RegistryToken}, host, []string{got.Username, got.Password, got.IdentityToken, got.RegistryToken}, err)
		}
		for _, m := range before.obj.members {
			if !strings.EqualFold(m.key, "auths") && !bytes.Equal(after.obj.get(m.key), m.raw) {
				t.Fatalf("storing a credential changed member %q", m.key)
			}
		}
		if before.auths != nil {
			for _, m := range before.auths.members {
				if !sameRegistry(m.key, host) && !bytes.Equal(after.auths.get(m.key), m.raw) {
					t.Fatalf("storing a credential for %q changed the entry of %q", host, m.key)
				}
			}
		}
	})
}

// fuzzCredential makes one of the three kinds of credential Put stores.
func fuzzCredential(user, secret string, kind uint8) Credential {
	switch kind % 3 {
	case 1:
		return Credential{Username: user, IdentityToken: secret}
	case 2:
		return Credential{RegistryToken: secret}
	}
	return Credential{Username: user, Password: secret}
}

// reparse encodes cfg the way ConfigStore.update writes it and parses the
// result again, failing t if it does not parse.
func reparse(t *testing.T, cfg *configFile) *configFile {
	t.Helper()
	data := cfg.encode()
	again, err := parseConfig(fuzzConfigPath, data)
	if err != nil {
		t.Fatalf("hoist would write a config.json it cannot read back: %v\n%s", err, data)
	}
	return again
}

// sameConfig reports whether a and b have the same members in the same
// order, with the same bytes, and the same auths entries: "auths" itself
// (in any spelling, which hoist writes as one "auths") is compared entry
// by entry, since hoist re-indents it when it writes.
func sameConfig(a, b *configFile) bool {
	others := func(c *configFile) []member {
		var out []member
		for _, m := range c.obj.members {
			if !strings.EqualFold(m.key, "auths") || c.auths == nil {
				out = append(out, m)
			}
		}
		return out
	}
	am, bm := others(a), others(b)
	if len(am) != len(bm) || (a.auths == nil) != (b.auths == nil) {
		return false
	}
	for i, m := range am {
		n := bm[i]
		if m.key != n.key || !strings.EqualFold(m.key, "auths") && !bytes.Equal(m.raw, n.raw) {
			return false
		}
	}
	return a.auths == nil || reflect.DeepEqual(a.auths.members, b.auths.members)
}

// checkEntry decodes one auths entry and asserts that a failure names the
// file and the key and quotes none of the entry's secrets.
func checkEntry(t *testing.T, path, key string, raw json.RawMessage) {
	t.Helper()
	_, err := decodeEntry(path, key, raw)
	if err == nil {
		return
	}
	msg := err.Error()
	if !strings.Contains(msg, path) || !strings.Contains(msg, strconv.Quote(key)) {
		t.Fatalf("entry error names neither %s nor %q: %v", path, key, err)
	}
	var fields map[string]any
	_ = json.Unmarshal(raw, &fields)
	for _, name := range []string{"auth", "password", "identitytoken", "registrytoken"} {
		if s, ok := fields[name].(string); ok && len(s) >= 6 && strings.Contains(msg, s) && !strings.Contains(path+key, s) {
			t.Fatalf("entry error quotes the %s value: %v", name, err)
		}
	}
}

// FuzzDockerCfg reads arbitrary bytes as a legacy ~/.dockercfg, in both of
// its forms, and checks: a rejection names the file; an accepted file's
// entries decode or fail as config.json's do; and a two-line file written
// from any auth and email values reads back with those values, under
// Docker Hub's key.
func FuzzDockerCfg(f *testing.F) {
	for _, s := range []string{
		`{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz","email":"u@x"}}`,
		"auth = dXNlcjpwYXNz\nemail = u@example.com\n",
		"auth=dXNlcjpwYXNz==\r\n", "email = only@x\n", "auth = a\nother = b\n", "\n\n", "{", "[]",
	} {
		f.Add([]byte(s), "dXNlcjpwYXNz", "u@example.com")
	}
	const path = "/home/u/.dockercfg"
	f.Fuzz(func(t *testing.T, data []byte, authValue, email string) {
		obj := parseDockerCfgChecked(t, path, data)
		if obj != nil {
			for _, m := range obj.members {
				checkEntry(t, path, m.key, m.raw)
			}
		}

		authValue, email = strings.TrimSpace(authValue), strings.TrimSpace(email)
		if authValue == "" || strings.Contains(authValue+email, "\n") || !utf8.ValidString(authValue) || !utf8.ValidString(email) {
			return // not a value a two-line file can hold
		}
		obj = parseDockerCfgChecked(t, path, []byte("auth = "+authValue+"\nemail = "+email+"\n"))
		if obj == nil {
			t.Fatalf("two-line file with auth %q and email %q refused", authValue, email)
		}
		entry, err := parseObject(obj.get(hubKey))
		if err != nil {
			t.Fatalf("two-line file: Docker Hub entry %s: %v", obj.get(hubKey), err)
		}
		var a, e string
		_ = json.Unmarshal(entry.get("auth"), &a)
		_ = json.Unmarshal(entry.get("email"), &e)
		if len(obj.members) != 1 || a != authValue || e != email {
			t.Fatalf("two-line file with auth %q and email %q read as %q", authValue, email, obj.encode(0))
		}
	})
}

// parseDockerCfgChecked parses data as the .dockercfg at path, asserting
// a linear allocation bound and that a refusal names the file. It returns
// nil for a refused file.
func parseDockerCfgChecked(t *testing.T, path string, data []byte) *object {
	t.Helper()
	var obj *object
	var err error
	fuzzcheck.Heap(t, "parseDockerCfg", len(data), 32, func() { obj, err = parseDockerCfg(path, data) })
	if err != nil {
		if !strings.Contains(err.Error(), path) {
			t.Fatalf("error does not name the file: %v", err)
		}
		return nil
	}
	return obj
}
