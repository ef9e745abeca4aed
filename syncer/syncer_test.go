package syncer

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/copy"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/ocilayout"
)

// countingRegistry is an in-process registry whose requests are counted
// by kind.
type countingRegistry struct {
	*testutil.Registry
	mu sync.Mutex
	n  map[string]int
}

func newCountingRegistry(t *testing.T) *countingRegistry {
	c := &countingRegistry{n: map[string]int{}}
	c.Registry = testutil.NewRegistry(t, testutil.WithMiddleware(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.mu.Lock()
			c.n[requestKind(r)]++
			c.mu.Unlock()
			h.ServeHTTP(w, r)
		})
	}))
	return c
}

func (c *countingRegistry) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

func mustParse(t *testing.T, y string) *Config {
	t.Helper()
	c, err := Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func tagsOf(t *testing.T, host, repo string) []string {
	t.Helper()
	sy, _ := New(newEnv(), mustParse(t, "sync: [{source: x.io/a, target: y.io/a}]"))
	reg, err := sy.registry(context.Background(), host)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := reg.Repository(context.Background(), repo)
	tags, err := r.(store.TagLister).Tags(context.Background(), store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(tags)
	return tags
}

// TestSyncFiltersAndRerun mirrors repositories matched in the catalog
// with a semver filter, then runs again: the second run lists each
// repository once, resolves each tag with one HEAD and asks the target
// nothing; with WithFast, not even the HEADs.
func TestSyncFiltersAndRerun(t *testing.T) {
	src, dst := newCountingRegistry(t), newCountingRegistry(t)
	base := testutil.NewImage(t, testutil.ImageSpec{Seed: "base"})
	for _, repo := range []string{"team/a", "team/b", "other/c"} {
		for _, tag := range []string{"1.0.0", "1.1.0", "2.0.0", "2.0.0-rc1", "latest"} {
			img := testutil.NewImage(t, testutil.ImageSpec{Seed: repo + tag})
			if tag == "latest" {
				img = base
			}
			pushImage(t, src.Host, repo, tag, img)
		}
	}
	src.take()
	cfg := mustParse(t, fmt.Sprintf(`
sync:
  - source: %s/team
    match: ['.*']
    target: %s/mirror
    tags:
      semver: ">=1.0"
      deny: ['.*-rc.*']
      latest: 2
`, src.Host, dst.Host))
	st, err := OpenState(filepath.Join(t.TempDir(), "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sy, err := New(newEnv(), cfg, WithState(st))
	if err != nil {
		t.Fatal(err)
	}
	res, err := sy.Run(ctx)
	if err != nil || res.Failed != 0 {
		t.Fatalf("first run: %v %+v", err, res.Failures())
	}
	if res.Repositories != 2 || res.Copied != 4 {
		t.Fatalf("first run: %d repositories, %d copied; want 2 and 4", res.Repositories, res.Copied)
	}
	for _, repo := range []string{"mirror/a", "mirror/b"} {
		if got := tagsOf(t, dst.Host, repo); !slices.Equal(got, []string{"1.1.0", "2.0.0"}) {
			t.Errorf("%s: tags %v, want the latest 2 versions without rc", repo, got)
		}
	}
	src.take()
	dst.take()

	st2, err := OpenState(st.Path())
	if err != nil {
		t.Fatal(err)
	}
	sy, _ = New(newEnv(), cfg, WithState(st2))
	res, err = sy.Run(ctx)
	if err != nil || res.Copied != 0 || res.Skipped != 4 {
		t.Fatalf("rerun: %v; %d copied, %d skipped", err, res.Copied, res.Skipped)
	}
	s, d := src.take(), dst.take()
	if s[KindManifestGET] != 0 || s[KindManifestHEAD] != 4 || len(d) != 0 {
		t.Errorf("rerun requests: source %v, target %v; want 4 manifest HEADs, no GET, nothing on the target", s, d)
	}
	if s[KindTags] != 2 || s[KindCatalog] != 1 {
		t.Errorf("rerun: %d tags requests, %d catalog requests, want one listing per repository (the state knows the registry pages with Link) and one of the catalog", s[KindTags], s[KindCatalog])
	}

	sy, _ = New(newEnv(), cfg, WithState(st2), WithFast())
	if res, err = sy.Run(ctx); err != nil || res.Skipped != 4 {
		t.Fatalf("fast rerun: %v %+v", err, res)
	}
	if s := src.take(); s[KindManifestHEAD] != 0 || s[KindManifestGET] != 0 {
		t.Errorf("fast rerun: %v, want no manifest requests", s)
	}

	// A moved tag is copied again; a tag gone from the source is pruned.
	pushImage(t, src.Host, "team/a", "2.0.0", testutil.NewImage(t, testutil.ImageSpec{Seed: "moved"}))
	pushImage(t, src.Host, "team/b", "2.1.0", testutil.NewImage(t, testutil.ImageSpec{Seed: "new"}))
	sy, _ = New(newEnv(), cfg, WithState(st2), WithPrune())
	res, err = sy.Run(ctx)
	if err != nil || res.Failed != 0 {
		t.Fatalf("changes: %v %+v", err, res.Failures())
	}
	if res.Copied != 2 || res.Deleted != 1 {
		t.Errorf("changes: %d copied, %d deleted; want 2 (a:2.0.0 moved, b:2.1.0 new) and 1 (b:1.1.0 no longer in the latest 2)", res.Copied, res.Deleted)
	}
	if got := tagsOf(t, dst.Host, "mirror/b"); !slices.Equal(got, []string{"2.0.0", "2.1.0"}) {
		t.Errorf("mirror/b after prune: %v", got)
	}
}

// TestSyncDryRunWritesNothing plans into an empty registry and a layout
// tree: everything is to copy, and nothing appears.
func TestSyncDryRunWritesNothing(t *testing.T) {
	src, dst := newCountingRegistry(t), newCountingRegistry(t)
	pushImage(t, src.Host, "app", "v1", testutil.NewImage(t, testutil.ImageSpec{Seed: "v1"}))
	dir := filepath.Join(t.TempDir(), "layouts")
	cfg := mustParse(t, fmt.Sprintf(`
sync:
  - {source: %[1]s/app, target: %[2]s/app}
  - {source: %[1]s, repositories: [app], target: "oci:%[3]s"}
`, src.Host, dst.Host, dir))
	sy, _ := New(newEnv(), cfg, WithDryRun())
	res, err := sy.Run(context.Background())
	if err != nil || res.Copied != 2 || !res.DryRun {
		t.Fatalf("%v %+v", err, res)
	}
	if d := dst.take(); d[KindManifestPUT] != 0 || d[KindUpload] != 0 {
		t.Errorf("a dry run wrote to the target: %v", d)
	}
	if _, err := ocilayout.Open(context.Background(), filepath.Join(dir, "app")); err == nil {
		t.Error("a dry run created the layout")
	}
}

// TestSyncLayoutRoundTrip is the air gap: a registry into a layout tree,
// then the tree into another registry, digests kept, pins honoured.
func TestSyncLayoutRoundTrip(t *testing.T) {
	src, dst := newCountingRegistry(t), newCountingRegistry(t)
	v1 := testutil.NewImage(t, testutil.ImageSpec{Seed: "v1", Platforms: []string{"linux/amd64", "linux/arm64"}})
	v2 := testutil.NewImage(t, testutil.ImageSpec{Seed: "v2"})
	pushImage(t, src.Host, "lib/app", "v1", v1)
	pushImage(t, src.Host, "lib/app", "v2", v2)
	pushImage(t, src.Host, "lib/tool", "v1", v2)
	dir := filepath.Join(t.TempDir(), "usb")
	out := mustParse(t, fmt.Sprintf(`
sync:
  - source: %s/lib
    repositories: [app, tool]
    target: oci:%s
    tags: {names: [v1], digests: ["stable@%s"]}
`, src.Host, dir, v2.Root.Digest))
	sy, _ := New(newEnv(), out)
	if res, err := sy.Run(context.Background()); err != nil || res.Failed != 0 || res.Copied != 4 {
		t.Fatalf("out: %v %+v", err, res)
	}
	in := mustParse(t, fmt.Sprintf(`
sync:
  - {source: "oci:%s", match: [".*"], target: %s/inside}
`, dir, dst.Host))
	sy, _ = New(newEnv(), in)
	res, err := sy.Run(context.Background())
	if err != nil || res.Failed != 0 || res.Copied != 4 {
		t.Fatalf("in: %v %+v", err, res)
	}
	got := map[string]string{}
	for _, it := range res.Items {
		got[strings.TrimPrefix(it.Target, dst.Host+"/")+":"+it.Tag] = it.Digest.String()
	}
	want := map[string]string{"inside/app:v1": v1.Root.Digest.String(), "inside/app:stable": v2.Root.Digest.String(),
		"inside/tool:v1": v2.Root.Digest.String(), "inside/tool:stable": v2.Root.Digest.String()}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("inside: %v\nwant %v", got, want)
	}
}

// TestSyncKeepsGoing: a repository that does not exist fails alone, and
// the Result names it.
func TestSyncKeepsGoing(t *testing.T) {
	src, dst := newCountingRegistry(t), newCountingRegistry(t)
	pushImage(t, src.Host, "ok", "v1", testutil.NewImage(t, testutil.ImageSpec{Seed: "ok"}))
	cfg := mustParse(t, fmt.Sprintf("sync: [{source: %s, repositories: [ok, missing], target: %s}]", src.Host, dst.Host))
	sy, _ := New(newEnv(), cfg)
	res, err := sy.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Copied != 1 || res.Failed != 1 || res.Err() == nil || !strings.Contains(res.Failures()[0].Target, "missing") {
		t.Fatalf("%+v", res)
	}
}

// TestSyncPausesBeforeTheLimit: a source behind a Docker Hub-style quota
// of 4 manifest GETs per 2 s. The sync pauses when the quota says it is
// spent, tells why, never gets a 429, and copies everything.
func TestSyncPausesBeforeTheLimit(t *testing.T) {
	src, dst := newCountingRegistry(t), newCountingRegistry(t)
	for i := range 20 {
		pushImage(t, src.Host, "app", fmt.Sprintf("v%d", i), testutil.NewImage(t, testutil.ImageSpec{Seed: fmt.Sprint(i)}))
	}
	q := &testutil.Quota{Limit: 8, Window: 2 * time.Second}
	front := testutil.NewFaultProxy(t, src.URL, q.Fault())
	cfg := mustParse(t, fmt.Sprintf("sync: [{source: %s/app, target: %s/app}]", front.Host, dst.Host))
	var mu sync.Mutex
	var waits []Wait
	sy, _ := New(newEnv(), cfg, WithProgress(func(e Event) {
		if e.Kind == EventWait {
			mu.Lock()
			waits = append(waits, *e.Wait)
			mu.Unlock()
		}
	}))
	res, err := sy.Run(context.Background())
	if err != nil || res.Failed != 0 || res.Copied != 20 {
		t.Fatalf("%v: %+v", err, res)
	}
	if n := q.Rejected(); n != 0 {
		t.Errorf("the source answered %d requests 429: the sync did not pause before the limit", n)
	}
	if len(waits) == 0 || len(res.Waits) != len(waits) || !strings.Contains(waits[0].Reason, "0 of 8 requests left") {
		t.Errorf("waits %v: want a pause that says the quota is spent", waits)
	}
}

// TestSyncSharedBaseMovesOnce: images of many repositories share a base
// layer; the first sync fetches it from the source once and mounts it
// into the other target repositories, and the tags' own blobs move once
// each.
func TestSyncSharedBaseMovesOnce(t *testing.T) {
	src, dst := newCountingRegistry(t), newCountingRegistry(t)
	const repos = 5
	tags := []string{"1.0", "1.1"}
	y := "sync:\n"
	for r := range repos {
		repo := fmt.Sprintf("team/svc%d", r)
		for _, tag := range tags {
			pushImage(t, src.Host, repo, tag, testutil.NewImage(t, testutil.ImageSpec{Seed: repo + tag, Base: "shared", LayerBytes: 16 << 10}))
		}
		y += fmt.Sprintf("  - {source: %s/%s, target: %s/mirror/svc%d}\n", src.Host, repo, dst.Host, r)
	}
	src.take()
	cache, err := copy.OpenBlobCache(filepath.Join(t.TempDir(), "blobs.json"))
	if err != nil {
		t.Fatal(err)
	}
	sy, err := New(newEnv(), mustParse(t, y), WithBlobCache(cache))
	if err != nil {
		t.Fatal(err)
	}
	res, err := sy.Run(context.Background())
	if err != nil || res.Failed != 0 || res.Copied != repos*len(tags) {
		t.Fatalf("%v %+v", err, res.Failures())
	}
	mounted := 0
	for _, it := range res.Items {
		mounted += it.Mounted
	}
	// Each image: its config, its own layer, and the base.
	if n := src.take()[KindBlobGET]; n != 2*repos*len(tags)+1 {
		t.Errorf("the source served %d blob GETs, want %d: each image's config and layer, and the shared base once", n, 2*repos*len(tags)+1)
	}
	if mounted != repos-1 {
		t.Errorf("%d blobs mounted, want %d (the base, into every repository but the first)", mounted, repos-1)
	}
	for r := range repos {
		if got := tagsOf(t, dst.Host, fmt.Sprintf("mirror/svc%d", r)); !slices.Equal(got, tags) {
			t.Errorf("mirror/svc%d: %v", r, got)
		}
	}
}
