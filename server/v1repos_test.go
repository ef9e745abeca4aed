package server

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestV1Ping(t *testing.T) {
	tests := []struct {
		name       string
		opts       []V1Option
		header     string
		version    string
		standalone bool
	}{
		{"defaults", nil, "true", "0.9.1", true},
		{"not standalone", []V1Option{WithV1Standalone(false)}, "false", "0.9.1", false},
		{"version", []V1Option{WithV1Version("0.6.2")}, "true", "0.6.2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newV1Env(t, tt.opts...)
			a := e.call(http.MethodGet, "_ping", nil)
			expect(t, "GET _ping", a, http.StatusOK)
			if got := a.header.Get("X-Docker-Registry-Standalone"); got != tt.header {
				t.Errorf("X-Docker-Registry-Standalone = %q, want %q", got, tt.header)
			}
			if got := a.header.Get("X-Docker-Registry-Version"); got != tt.version {
				t.Errorf("X-Docker-Registry-Version = %q, want %q", got, tt.version)
			}
			var body struct {
				Version    string `json:"version"`
				Standalone bool   `json:"standalone"`
			}
			if err := json.Unmarshal(a.body, &body); err != nil {
				t.Fatal(err)
			}
			if body.Version != tt.version || body.Standalone != tt.standalone {
				t.Errorf("body = %+v, want version %q standalone %v", body, tt.version, tt.standalone)
			}
			expect(t, "HEAD _ping", e.call(http.MethodHead, "_ping", nil), http.StatusOK)
			expect(t, "POST _ping", e.call(http.MethodPost, "_ping", nil), http.StatusMethodNotAllowed)
		})
	}
}

func TestV1Tags(t *testing.T) {
	e := newV1Env(t)
	chain := testChain(t)
	parent, child := chain[0], chain[1]
	e.push("foo42/bar", "latest", chain)

	putTag := func(name, tag string, body any) answer {
		return e.call(http.MethodPut, "repositories/"+name+"/tags/"+tag, jsonBody(t, body), withHeader("Content-Type", "application/json"))
	}
	expect(t, "tag the parent", putTag("foo42/bar", "base-1.0", parent.id), http.StatusOK)
	expect(t, "move latest", putTag("foo42/bar", "latest", parent.id), http.StatusOK)
	expect(t, "tag back", putTag("foo42/bar", "latest", child.id), http.StatusOK)
	expect(t, "tag a missing image", putTag("foo42/bar", "missing", strings.Repeat("ab", 32)), http.StatusNotFound)
	expect(t, "tag with an invalid name", putTag("foo42/bar", ".hidden", child.id), http.StatusBadRequest)
	expect(t, "tag with a body that is not a string", putTag("foo42/bar", "x", map[string]string{"id": child.id}), http.StatusBadRequest)

	a := e.call(http.MethodGet, "repositories/foo42/bar/tags", nil)
	expect(t, "GET tags", a, http.StatusOK)
	var tags map[string]string
	if err := json.Unmarshal(a.body, &tags); err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"latest": child.id, "base-1.0": parent.id}; !reflect.DeepEqual(tags, want) {
		t.Errorf("tags = %v, want %v", tags, want)
	}
	expect(t, "GET a missing tag", e.call(http.MethodGet, "repositories/foo42/bar/tags/nope", nil), http.StatusNotFound)
	expect(t, "GET tags of a missing repository", e.call(http.MethodGet, "repositories/foo42/nope/tags", nil), http.StatusNotFound)
	expect(t, "GET images of a missing repository", e.call(http.MethodGet, "repositories/foo42/nope/images", nil), http.StatusNotFound)

	// A name without a slash is library/NAME.
	expect(t, "tag library/base", putTag("base", "v1", parent.id), http.StatusOK)
	a = e.call(http.MethodGet, "repositories/library/base/tags/v1", nil)
	expect(t, "GET library/base:v1", a, http.StatusOK)
	if got := a.jsonString(t); got != parent.id {
		t.Errorf("library/base:v1 = %q, want %q", got, parent.id)
	}
	// Tagging made the image part of the repository's list.
	a = e.call(http.MethodGet, "repositories/base/images", nil)
	expect(t, "GET images of library/base", a, http.StatusOK)
	if !strings.Contains(string(a.body), parent.id) {
		t.Errorf("image list of library/base = %s, want it to hold %s", a.body, parent.id)
	}
}

func TestV1Names(t *testing.T) {
	e := newV1Env(t)
	tests := []struct {
		path   string
		status int
	}{
		{"repositories/Foo42/bar/tags", http.StatusBadRequest},  // uppercase namespace
		{"repositories/foo/bar/tags", http.StatusBadRequest},    // namespace under 4 characters
		{"repositories/foo42/Bar/tags", http.StatusBadRequest},  // uppercase repository
		{"repositories/foo42/../tags", http.StatusBadRequest},   // not a name
		{"repositories/a/b/c/tags", http.StatusNotFound},        // three parts
		{"repositories/foo42/bar/tags", http.StatusNotFound},    // valid, absent
		{"repositories/foo42/bar/blobs", http.StatusNotFound},   // no such endpoint
		{"repositories/library/tags/tags", http.StatusNotFound}, // library/tags, whose tags are absent
		{"images/" + strings.Repeat("A", 64) + "/json", http.StatusNotFound},
		{"images/" + strings.Repeat("a", 64) + "/blob", http.StatusNotFound},
		{"nothing", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			expect(t, "GET "+tt.path, e.call(http.MethodGet, tt.path, nil), tt.status)
		})
	}
	a := callURL(t, http.DefaultTransport, http.MethodGet, e.ts.URL+"/v2/", nil)
	expect(t, "outside /v1/", a, http.StatusNotFound)
}

func TestV1MethodNotAllowed(t *testing.T) {
	e := newV1Env(t)
	id := strings.Repeat("a", 64)
	for _, tt := range []struct{ method, path string }{
		{http.MethodDelete, "images/" + id + "/json"},
		{http.MethodGet, "images/" + id + "/checksum"},
		{http.MethodPut, "images/" + id + "/ancestry"},
		{http.MethodGet, "repositories/foo42/bar/"},
		{http.MethodPost, "repositories/foo42/bar/tags"},
		{http.MethodDelete, "repositories/foo42/bar/tags/latest"},
		{http.MethodPost, "search"},
	} {
		a := e.call(tt.method, tt.path, nil)
		expect(t, tt.method+" "+tt.path, a, http.StatusMethodNotAllowed)
		if a.header.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", tt.method, tt.path)
		}
	}
}

func TestV1AnnounceAndClose(t *testing.T) {
	e := newV1Env(t, WithV1Endpoints("reg1.example.com", "reg2.example.com:5000"))
	chain := testChain(t)
	body := func() *strings.Reader {
		b, _ := json.Marshal([]map[string]string{{"id": chain[0].id, "Tag": "latest"}})
		return strings.NewReader(string(b))
	}
	a := e.call(http.MethodPut, "repositories/foo42/bar/", body(), withHeader("X-Docker-Token", "true"))
	expect(t, "first announce", a, http.StatusCreated)
	if got := a.header.Get("X-Docker-Endpoints"); got != "reg1.example.com, reg2.example.com:5000" {
		t.Errorf("X-Docker-Endpoints = %q, want the configured hosts", got)
	}
	a = e.call(http.MethodPut, "repositories/foo42/bar/", body())
	expect(t, "second announce", a, http.StatusOK)
	if a.header.Get("X-Docker-Token") != "" {
		t.Error("a token was issued without X-Docker-Token: true")
	}
	expect(t, "announce with a bad id", e.call(http.MethodPut, "repositories/foo42/bar/", strings.NewReader(`[{"id":"../x"}]`)), http.StatusBadRequest)
	expect(t, "announce with a bad body", e.call(http.MethodPut, "repositories/foo42/bar/", strings.NewReader(`{`)), http.StatusBadRequest)
	expect(t, "close an unknown repository", e.call(http.MethodPut, "repositories/foo42/nope/images", strings.NewReader(`[]`)), http.StatusNotFound)

	closing := `[{"id":"` + chain[0].id + `","checksum":"tarsum+sha256:1234"}]`
	expect(t, "close", e.call(http.MethodPut, "repositories/foo42/bar/images", strings.NewReader(closing)), http.StatusNoContent)
	a = e.call(http.MethodGet, "repositories/foo42/bar/images", nil)
	expect(t, "GET images", a, http.StatusOK)
	var list []repoImage
	if err := json.Unmarshal(a.body, &list); err != nil {
		t.Fatal(err)
	}
	if want := []repoImage{{ID: chain[0].id, Checksum: "tarsum+sha256:1234"}}; !reflect.DeepEqual(list, want) {
		t.Errorf("image list = %+v, want %+v", list, want)
	}
}

// With WithV1AnnounceRedirect, the announcement is redirected once; the
// same PUT at Location is the real one.
func TestV1AnnounceRedirect(t *testing.T) {
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			e := newV1Env(t, WithV1Account(foo42), WithV1AnnounceRedirect(status))
			basic := withBasic(foo42.Username, foo42.Password)
			a := e.announce2("foo42/bar", basic)
			expect(t, "announce", a, status)
			loc := a.header.Get("Location")
			if loc == "" || loc == "/v1/repositories/foo42/bar/" {
				t.Fatalf("Location = %q, want another path", loc)
			}
			a = callURL(t, http.DefaultTransport, http.MethodPut, e.ts.URL+loc, strings.NewReader("[]"), basic, withHeader("X-Docker-Token", "true"))
			expect(t, "announce at Location", a, http.StatusCreated)
			if a.header.Get("X-Docker-Token") == "" || a.header.Get("X-Docker-Endpoints") == "" {
				t.Errorf("announce at Location: token %q, endpoints %q", a.header.Get("X-Docker-Token"), a.header.Get("X-Docker-Endpoints"))
			}
			// The redirected path serves nothing else.
			other := strings.Replace(loc, "/foo42/bar/", "/foo42/bar/tags", 1)
			expect(t, "GET tags on the redirected path", callURL(t, http.DefaultTransport, http.MethodGet, e.ts.URL+other, nil), http.StatusNotFound)
		})
	}
}

func TestV1Search(t *testing.T) {
	e := newV1Env(t)
	for _, name := range []string{"foo42/bar", "foo42/baz", "other/barn", "library/ubuntu", "library/debian"} {
		expect(t, "announce "+name, e.announce2(name), http.StatusCreated)
	}
	search := func(query string) v1SearchAnswer {
		t.Helper()
		a := e.call(http.MethodGet, "search?"+query, nil)
		expect(t, "search "+query, a, http.StatusOK)
		var ans v1SearchAnswer
		if err := json.Unmarshal(a.body, &ans); err != nil {
			t.Fatal(err)
		}
		return ans
	}
	names := func(ans v1SearchAnswer) []string {
		var n []string
		for _, r := range ans.Results {
			n = append(n, r.Name)
		}
		return n
	}

	tests := []struct {
		query      string
		want       []string
		numResults int
		numPages   int
	}{
		{"q=bar", []string{"foo42/bar", "other/barn"}, 2, 1},
		{"q=BA", []string{"foo42/bar", "foo42/baz", "other/barn"}, 3, 1},
		{"q=ba&n=2", []string{"foo42/bar", "foo42/baz"}, 3, 2},
		{"q=ba&n=2&page=2", []string{"other/barn"}, 3, 2},
		{"q=ba&n=2&page=3", nil, 3, 2},
		{"q=ubuntu", []string{"ubuntu"}, 1, 1},
		{"q=nothing-like-it", nil, 0, 0},
		{"q=", []string{"foo42/bar", "foo42/baz", "debian", "ubuntu", "other/barn"}, 5, 1},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			ans := search(tt.query)
			if got := names(ans); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("results = %v, want %v", got, tt.want)
			}
			if ans.NumResults != tt.numResults || ans.NumPages != tt.numPages {
				t.Errorf("num_results %d, num_pages %d; want %d, %d", ans.NumResults, ans.NumPages, tt.numResults, tt.numPages)
			}
			if ans.Results == nil {
				t.Error(`"results" is null, want a list`)
			}
		})
	}
	ans := search("q=ubuntu")
	if r := ans.Results[0]; !r.IsOfficial || r.IsTrusted || r.IsAutomated || ans.Query != "ubuntu" {
		t.Errorf("ubuntu result %+v, query %q: want official, not trusted or automated, query echoed", r, ans.Query)
	}
	// The raw body carries every field the client reads.
	a := e.call(http.MethodGet, "search?q=bar", nil)
	for _, field := range []string{`"query"`, `"num_results"`, `"results"`, `"name"`, `"description"`, `"star_count"`, `"is_official"`, `"is_trusted"`, `"is_automated"`} {
		if !strings.Contains(string(a.body), field) {
			t.Errorf("search body lacks %s: %s", field, a.body)
		}
	}
	expect(t, "bad page", e.call(http.MethodGet, "search?q=a&page=0", nil), http.StatusBadRequest)
	expect(t, "bad n", e.call(http.MethodGet, "search?q=a&n=x", nil), http.StatusBadRequest)
}

func TestNewV1Errors(t *testing.T) {
	tests := []struct {
		name string
		opts []V1Option
	}{
		{"duplicate account", []V1Option{WithV1Account(foo42), WithV1Account(foo42)}},
		{"account without password", []V1Option{WithV1Account(V1Account{Username: "abcd"})}},
		{"colon in username", []V1Option{WithV1Account(V1Account{Username: "a:b", Password: "x"})}},
		{"endpoint with a scheme", []V1Option{WithV1Endpoints("https://reg.example.com")}},
		{"redirect that is not 3xx", []V1Option{WithV1AnnounceRedirect(200)}},
		{"zero token lifetime", []V1Option{WithV1TokenTTL(0)}},
		{"bcrypt cost", []V1Option{WithV1BcryptCost(99)}},
		{"nil logger", []V1Option{WithV1Logger(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewV1(t.TempDir(), tt.opts...); err == nil {
				t.Error("NewV1 accepted it")
			}
		})
	}
	if _, err := NewV1(""); err == nil {
		t.Error("NewV1 accepted an empty root")
	}
}
