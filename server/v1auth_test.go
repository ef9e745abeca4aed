package server

import (
	"bytes"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/testutil"
)

func TestParseTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []presentedToken
	}{
		{`signature=abc,repository="foo/bar",access=write`, []presentedToken{{"abc", "foo/bar", "write"}}},
		{`signature=a,repository="x/y",access=read, signature=b,repository="x/z",access=write`,
			[]presentedToken{{"a", "x/y", "read"}, {"b", "x/z", "write"}}},
		{`repository="x/y",signature=a`, []presentedToken{{signature: "a"}}},
		{`garbage`, nil},
		{``, nil},
	}
	for _, tt := range tests {
		got := parseTokens(tt.in)
		if len(got) != len(tt.want) {
			t.Errorf("parseTokens(%q) = %+v, want %+v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("parseTokens(%q)[%d] = %+v, want %+v", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}

// Registry calls on a registry that is not standalone need a token issued
// by the index for the right repository and access.
func TestV1TokenRules(t *testing.T) {
	clock := testutil.NewClock(time.Date(2014, 6, 1, 0, 0, 0, 0, time.UTC))
	other := V1Account{Username: "other", Password: "pa55word", Email: "o@example.com", Active: true}
	sleepy := V1Account{Username: "sleepy", Password: "zzzzzz", Email: "s@example.com"}
	e := newV1Env(t, WithV1Account(foo42), WithV1Account(other), WithV1Account(sleepy), WithV1Standalone(false),
		WithV1Clock(clock.Now), WithV1TokenTTL(10*time.Minute))
	chain := testChain(t)
	parent, child := chain[0], chain[1]
	basic := withBasic(foo42.Username, foo42.Password)

	// The parent is pushed to foo42/base; foo42/app announces only the child.
	baseTok := e.announce("foo42/base", chain[:1], basic)
	e.pushImage(parent, withToken(baseTok))
	appTok := e.announce("foo42/app", chain[1:], basic)

	readAns := e.call(http.MethodGet, "repositories/foo42/base/images", nil, withHeader("X-Docker-Token", "true"))
	expect(t, "anonymous GET images (reads are public)", readAns, http.StatusOK)
	readTok := readAns.header.Get("X-Docker-Token")
	if !strings.Contains(readTok, `repository="foo42/base"`) || !strings.HasSuffix(readTok, "access=read") {
		t.Fatalf("read token %q does not name the repository and read access", readTok)
	}
	if !strings.HasSuffix(baseTok, "access=write") {
		t.Fatalf("announce token %q is not a write token", baseTok)
	}
	tampered := strings.Replace(baseTok, `repository="foo42/base"`, `repository="foo42/app"`, 1)

	putJSON := func(img testImage, opts ...reqOpt) answer {
		return e.call(http.MethodPut, "images/"+img.id+"/json", bytes.NewReader(img.json), opts...)
	}
	tests := []struct {
		name   string
		do     func() answer
		status int
	}{
		{"write without credentials", func() answer { return putJSON(child) }, http.StatusUnauthorized},
		{"unknown token", func() answer {
			return putJSON(child, withToken(`signature=deadbeef,repository="foo42/app",access=write`))
		}, http.StatusUnauthorized},
		{"tampered repository", func() answer { return putJSON(child, withToken(tampered)) }, http.StatusUnauthorized},
		{"Basic on a registry that is not standalone", func() answer { return putJSON(child, basic) }, http.StatusUnauthorized},
		{"unsupported scheme", func() answer { return putJSON(child, withHeader("Authorization", "Bearer xyz")) }, http.StatusUnauthorized},
		{"read token for a write", func() answer { return putJSON(child, withToken(readTok)) }, http.StatusForbidden},
		{"write token of another repository", func() answer { return putJSON(child, withToken(baseTok)) }, http.StatusForbidden},
		{"tags of another repository", func() answer {
			return e.call(http.MethodPut, "repositories/foo42/app/tags/latest", jsonBody(t, parent.id), withToken(baseTok))
		}, http.StatusForbidden},
		{"one good token among several", func() answer { return putJSON(child, withToken(readTok, appTok)) }, http.StatusOK},
		{"read an image of the token's repository", func() answer {
			return e.call(http.MethodGet, "images/"+parent.id+"/json", nil, withToken(readTok))
		}, http.StatusOK},
		{"read with a write token", func() answer {
			return e.call(http.MethodGet, "images/"+parent.id+"/ancestry", nil, withToken(baseTok))
		}, http.StatusOK},
		{"read an image outside the token's repository", func() answer {
			return e.call(http.MethodGet, "images/"+child.id+"/json", nil, withToken(readTok))
		}, http.StatusForbidden},
		{"unknown account", func() answer { return e.announce2("foo42/app", withBasic("nobody", "x")) }, http.StatusUnauthorized},
		{"inactive account", func() answer { return e.announce2("foo42/app", withBasic(sleepy.Username, sleepy.Password)) }, http.StatusForbidden},
		{"announce with another account's password", func() answer { return e.announce2("foo42/app", withBasic(foo42.Username, other.Password)) }, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, tt.name, tt.do(), tt.status)
		})
	}

	// Once the child is complete, a read token of foo42/app also reads its
	// parent, which foo42/app never listed.
	expect(t, "PUT child layer", e.call(http.MethodPut, "images/"+child.id+"/layer", bytes.NewReader(child.layer), withToken(appTok)), http.StatusOK)
	expect(t, "PUT child checksum", e.call(http.MethodPut, "images/"+child.id+"/checksum", nil, withToken(appTok),
		withHeader("X-Docker-Checksum", child.tarsum), withHeader("X-Docker-Checksum-Payload", child.payload)), http.StatusOK)
	appRead := e.call(http.MethodGet, "repositories/foo42/app/images", nil, withHeader("X-Docker-Token", "true")).header.Get("X-Docker-Token")
	expect(t, "read a parent through its child's repository", e.call(http.MethodGet, "images/"+parent.id+"/layer", nil, withToken(appRead)), http.StatusOK)

	clock.Advance(11 * time.Minute)
	expect(t, "expired token", e.call(http.MethodGet, "images/"+parent.id+"/layer", nil, withToken(appRead)), http.StatusUnauthorized)
}

// announce2 sends an announcement and returns the answer, whatever it is.
func (e *v1Env) announce2(name string, opts ...reqOpt) answer {
	return e.call(http.MethodPut, "repositories/"+name+"/", strings.NewReader("[]"), append(opts, withHeader("X-Docker-Token", "true"))...)
}

// A registry call that presents a token gets a session cookie, which then
// works on its own, like the token, until the token's lifetime ends.
func TestV1SessionCookie(t *testing.T) {
	clock := testutil.NewClock(time.Date(2014, 6, 1, 0, 0, 0, 0, time.UTC))
	e := newV1Env(t, WithV1Account(foo42), WithV1Standalone(false), WithV1Clock(clock.Now), WithV1TokenTTL(time.Hour))
	img := testChain(t)[0]
	tok := e.announce("foo42/bar", []testImage{img}, withBasic(foo42.Username, foo42.Password))

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar}
	put := func(path string, body []byte, hdr map[string]string) int {
		req, err := http.NewRequest(http.MethodPut, e.ts.URL+"/v1/"+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := put("images/"+img.id+"/json", img.json, map[string]string{"Authorization": "Token " + tok}); got != http.StatusOK {
		t.Fatalf("PUT json with the token: %d", got)
	}
	u, _ := url.Parse(e.ts.URL + "/v1/")
	if len(jar.Cookies(u)) != 1 {
		t.Fatalf("cookies after a token call: %v, want one session cookie", jar.Cookies(u))
	}
	if got := put("images/"+img.id+"/layer", img.layer, nil); got != http.StatusOK {
		t.Fatalf("PUT layer with only the session cookie: %d, want 200", got)
	}
	clock.Advance(2 * time.Hour)
	sums := map[string]string{"X-Docker-Checksum": img.tarsum, "X-Docker-Checksum-Payload": img.payload}
	if got := put("images/"+img.id+"/checksum", nil, sums); got != http.StatusUnauthorized {
		t.Fatalf("PUT checksum with an expired session: %d, want 401", got)
	}
}

// A standalone registry takes Basic credentials on registry calls.
func TestV1StandaloneBasic(t *testing.T) {
	e := newV1Env(t, WithV1Account(foo42))
	img := testChain(t)[0]
	e.pushImage(img, withBasic(foo42.Username, foo42.Password))
	expect(t, "wrong password", e.call(http.MethodGet, "images/"+img.id+"/json", nil, withBasic(foo42.Username, "nope")), http.StatusUnauthorized)
	expect(t, "public read", e.call(http.MethodGet, "images/"+img.id+"/json", nil), http.StatusOK)
}

// With WithV1ReadAuth, reads need credentials too.
func TestV1ReadAuth(t *testing.T) {
	e := newV1Env(t, WithV1Account(foo42), WithV1ReadAuth(true), WithV1Standalone(false))
	chain := testChain(t)
	basic := withBasic(foo42.Username, foo42.Password)
	e.push("foo42/bar", "latest", chain, basic)

	tests := []struct {
		name   string
		path   string
		opts   []reqOpt
		status int
	}{
		{"image list without credentials", "repositories/foo42/bar/images", nil, http.StatusUnauthorized},
		{"image list with Basic", "repositories/foo42/bar/images", []reqOpt{basic}, http.StatusOK},
		{"search without credentials", "search?q=bar", nil, http.StatusUnauthorized},
		{"search with Basic", "search?q=bar", []reqOpt{basic}, http.StatusOK},
		{"tags without a token", "repositories/foo42/bar/tags", nil, http.StatusUnauthorized},
		{"layer without a token", "images/" + chain[0].id + "/layer", nil, http.StatusUnauthorized},
		{"ping stays public", "_ping", nil, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, tt.name, e.call(http.MethodGet, tt.path, nil, tt.opts...), tt.status)
		})
	}
	e.pull("foo42/bar", "latest", chain, basic)
}

// Without accounts, the registry is open: anonymous pushes get tokens too.
func TestV1OpenRegistry(t *testing.T) {
	e := newV1Env(t, WithV1Standalone(false))
	chain := testChain(t)
	e.push("library/busybox", "latest", chain)
	e.pull("busybox", "latest", chain)
	expect(t, "an invalid token is refused even here",
		e.call(http.MethodGet, "images/"+chain[0].id+"/json", nil, withToken("signature=nope")), http.StatusUnauthorized)
}
