package syncer

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"sync: []", "the list is empty"},
		{"sync: [{target: a.io/x}]", "source is missing"},
		{"sync: [{source: a.io/x}]", "target is missing"},
		{"sync: [{source: a.io, target: b.io}]", "is a whole registry"},
		{"sync: [{source: a.io/x, target: b.io/y, tags: {allow: ['(']}}]", `allow "("`},
		{"sync: [{source: a.io/x, target: b.io/y, tags: {semver: 'nope'}}]", `semver "nope"`},
		{"sync: [{source: a.io/x, target: b.io/y, tags: {digests: ['sha256:12']}}]", "digests"},
		{"sync: [{source: a.io/x, target: b.io/y, platforms: [linux]}]", "platforms"},
		{"sync: [{source: a.io/x, target: b.io/y, bogus: 1}]", "field bogus not found"},
		{"sync: [{source: a.io/x:v1, target: b.io/y}]", "without a tag"},
		{"hosts: {a.io: {rate: -1}}\nsync: [{source: a.io/x, target: b.io/y}]", "hosts.a.io.rate"},
		{"a.io: {images: {x: []}, bogus: 1}", "field bogus not found"},
	} {
		_, err := Parse([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to say %q", tc.yaml, err, tc.want)
		}
	}
}

// TestSkopeoMapping reads skopeo-sync(1)'s example: every repository is
// an entry from its registry, named by its base name, credentials and
// tls-verify kept.
func TestSkopeoMapping(t *testing.T) {
	c, err := Parse([]byte(`
registry.example.com:
    images:
        busybox: []
        redis:
            - "1.0"
            - "2.0"
            - "sha256:0000000000000000000000000000000000000000000000000000000000000000"
    images-by-tag-regex:
        nginx: ^1\.13\.[12]-alpine-perl$
    credentials:
        username: john
        password: this is a secret
    tls-verify: false
quay.io:
    images:
        coreos/etcd:
            - latest
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Format != "skopeo" || c.Credentials["registry.example.com"].Username != "john" || !slices.Contains(c.Insecure, "registry.example.com") {
		t.Fatalf("%+v", c)
	}
	if err := c.SetTarget("mirror.local/m", false); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for i := range c.Sync {
		e := &c.Sync[i]
		src, _ := parseLocation(e.Source)
		dst, _ := parseLocation(e.Target)
		repo, _ := joinRepo(src, e.Repositories[0])
		got[e.Source+"/"+e.Repositories[0]] = targetRepo(e, src, dst, repo)
	}
	want := map[string]string{
		"registry.example.com/busybox": "m/busybox", "registry.example.com/redis": "m/redis",
		"registry.example.com/nginx": "m/nginx", "quay.io/coreos/etcd": "m/etcd",
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s -> %s, want %s", k, got[k], v)
		}
	}
	f, _ := compileFilter(c.Sync[2].Tags) // redis: names and a digest
	if !slices.Equal(f.apply(nil), []string{"1.0", "2.0"}) || len(f.pins) != 1 || f.needsListing() {
		t.Errorf("redis filter: %v %v", f.apply(nil), f.pins)
	}
	f, _ = compileFilter(c.Sync[3].Tags) // nginx: skopeo's regex, unanchored there
	if !f.selects("1.13.1-alpine-perl") || f.selects("1.13.3-alpine-perl") {
		t.Error("images-by-tag-regex does not match as skopeo's does")
	}
	if err := c.SetTarget("mirror.local/m", true); err != nil {
		t.Fatal(err)
	}
	e := &c.Sync[0]
	src, _ := parseLocation(e.Source)
	dst, _ := parseLocation(e.Target)
	if got := targetRepo(e, src, dst, "etcd"); got != "m/registry.example.com/etcd" && e.Naming == NamingScoped {
		t.Errorf("scoped: %s", got)
	}
}

func TestFilter(t *testing.T) {
	tags := []string{"latest", "1.0.0", "v1.2.0", "1.10.0", "2.0.0-rc1", "2.0.0", "2.1", "edge", "3.0.0"}
	for _, tc := range []struct {
		f    TagFilter
		want []string
	}{
		{TagFilter{}, tags},
		{TagFilter{Semver: ">=1.2, <3"}, []string{"v1.2.0", "1.10.0", "2.0.0", "2.1"}},
		{TagFilter{Latest: 2}, []string{"2.1", "3.0.0"}},
		{TagFilter{Allow: []string{`\d.*`}, Deny: []string{`.*-rc.*`}, Latest: 3}, []string{"2.0.0", "2.1", "3.0.0"}},
		{TagFilter{Allow: []string{"edge", "latest"}}, []string{"latest", "edge"}},
		{TagFilter{Names: []string{"edge", "gone"}}, []string{"edge", "gone"}},
		{TagFilter{Allow: []string{"1"}}, nil}, // anchored: "1" is no tag here
		{TagFilter{Digests: []string{"3.0.0@sha256:0000000000000000000000000000000000000000000000000000000000000000"}, Semver: ">=3"}, nil},
	} {
		f, err := compileFilter(&tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.apply(tags); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.f, got, tc.want)
		}
	}
}

func TestParseQuota(t *testing.T) {
	h := map[string][]string{"Ratelimit-Limit": {"100;w=21600"}, "Ratelimit-Remaining": {"76;w=21600"}}
	q, ok := parseQuota(h, timeZero)
	if !ok || q.limit != 100 || q.remaining != 76 || q.window.Hours() != 6 {
		t.Errorf("Docker Hub headers: %+v", q)
	}
	q, ok = parseQuota(map[string][]string{"Ratelimit": {"limit=10, remaining=3, reset=30"}}, timeZero)
	if !ok || q.limit != 10 || q.remaining != 3 || q.reset.Sub(timeZero).Seconds() != 30 {
		t.Errorf("combined header: %+v", q)
	}
	if _, ok := parseQuota(map[string][]string{}, timeZero); ok {
		t.Error("no headers, but a quota")
	}
}

var timeZero = time.Unix(1e9, 0)
