//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/remote"
	"github.com/hoist-dev/hoist/transport"
)

// client is a plain client of hoist's transport, for the tests' own
// pushes and checks.
var client = transport.NewClient(transport.New())

// populate pushes repos × tags small images to host: every image its own
// config and top layer over one base layer they all share. It returns
// the root digest of each repo:tag.
func populate(t *testing.T, host string, repos []string, tags []string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	type job struct {
		repo, tag string
		img       *testutil.Image
	}
	var jobs []job
	for _, r := range repos {
		for _, tg := range tags {
			img := testutil.NewImage(t, testutil.ImageSpec{Seed: r + ":" + tg, Base: "shared", LayerBytes: 512})
			jobs = append(jobs, job{r, tg, img})
			out[r+":"+tg] = img.Root.Digest.String()
		}
	}
	// Repositories at once, each one's tags in turn: docker-registry 2.x
	// can lose one of two uploads of the same blob into one repository
	// at the same time (the shared base layer), and then refuses the
	// manifest that names it.
	byRepo := map[string][]job{}
	for _, j := range jobs {
		byRepo[j.repo] = append(byRepo[j.repo], j)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, js := range byRepo {
		g.Go(func() error {
			for _, j := range js {
				img := j.img
				dst, err := remote.New(reference.Reference{Registry: host, Repository: j.repo, Tag: j.tag}, client)
				if err != nil {
					return err
				}
				if err := testutil.CopyGraph(gctx, img, img.Root, dst); err != nil {
					return err
				}
				if err := dst.Tag(gctx, img.Root, j.tag); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	return out
}

// targetContents lists every repository of host (its catalog), each tag
// with the digest it names: "repo:tag" -> digest.
func targetContents(t *testing.T, host string) map[string]string {
	t.Helper()
	ctx := context.Background()
	reg, err := remote.NewRegistry(host, client)
	if err != nil {
		t.Fatal(err)
	}
	repos, err := reg.Repositories(ctx, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, name := range repos {
		r, _ := reg.Repository(ctx, name)
		tags, err := r.Tags(ctx, store.Page{})
		if errors.Is(err, store.ErrNotFound) {
			continue // manifests by digest only: distribution 2.x lists no tags
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range tags {
			d, err := r.Resolve(ctx, tag)
			if err != nil {
				t.Fatal(err)
			}
			out[name+":"+tag] = d.Digest.String()
		}
	}
	return out
}

// requestCounts counts a fault proxy's requests by what they do.
func requestCounts(reqs []testutil.ProxiedRequest) map[string]int {
	n := map[string]int{}
	for _, r := range reqs {
		p, _, _ := strings.Cut(r.Path, "?")
		k := r.Method + " other"
		switch {
		case strings.HasSuffix(p, "/tags/list"):
			k = "tags"
			switch {
			case strings.Contains(r.Path, "last="):
				k = "tags last="
			case strings.Contains(r.Path, "n=1"):
				k = "tags probe" // one per run: does the registry page with Link?
			}
		case strings.Contains(p, "/manifests/"):
			k = r.Method + " manifest"
		case strings.Contains(p, "/blobs/"):
			k = r.Method + " blob"
		case strings.HasSuffix(p, "/_catalog"):
			k = "catalog"
		}
		n[k]++
	}
	return n
}

func writeFile(t *testing.T, path, s string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func names(prefix string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("%s%03d", prefix, i))
	}
	return out
}

// TestSyncHundredRepositories mirrors 100 repositories × 10 tags from
// hoist serve to docker-registry with a filter, then runs again with
// nothing changed: the second run lists each repository once, sends one
// manifest HEAD per tag and no GET, and asks the target nothing; with
// --fast it sends no HEAD either.
func TestSyncHundredRepositories(t *testing.T) {
	srcHost, _ := startServe(t)
	dstHost := testutil.DockerRegistry(t)
	repos := names("apps/svc", 100)
	tags := []string{"1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0", "1.5.0", "1.6.0", "2.0.0-rc1", "2.0.0", "latest"}
	want := populate(t, srcHost, repos, tags)
	src := testutil.NewFaultProxy(t, "http://"+srcHost)
	dst := testutil.NewFaultProxy(t, "http://"+dstHost)
	dir := t.TempDir()
	cfg := writeFile(t, filepath.Join(dir, "sync.yaml"), fmt.Sprintf(`
defaults:
  tags:
    semver: ">=1.2"
    deny: ['.*-rc.*']
sync:
  - source: %s/apps
    match: ['svc.*']
    target: %s/mirror
`, src.Host, dst.Host))
	env := []string{"XDG_STATE_HOME=" + filepath.Join(dir, "state"), "XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}
	out, stderr, code := runHoist(t, env, "sync", cfg)
	if code != 0 {
		t.Fatalf("first sync: exit %d\n%s\n%s", code, out, stderr)
	}
	t.Logf("first sync: %s", firstLine(out))
	got := targetContents(t, dstHost)
	wantTags := []string{"1.2.0", "1.3.0", "1.4.0", "1.5.0", "1.6.0", "2.0.0"}
	if len(got) != 100*len(wantTags) {
		t.Fatalf("the target holds %d tags, want %d", len(got), 100*len(wantTags))
	}
	for _, r := range repos {
		for _, tg := range wantTags {
			if g := got["mirror/"+strings.TrimPrefix(r, "apps/")+":"+tg]; g != want[r+":"+tg] {
				t.Fatalf("%s:%s in the target is %q, want %s", r, tg, g, want[r+":"+tg])
			}
		}
	}

	before, beforeDst := len(src.Requests()), len(dst.Requests())
	out, stderr, code = runHoist(t, env, "sync", "--json", cfg)
	if code != 0 {
		t.Fatalf("re-sync: exit %d\n%s\n%s", code, out, stderr)
	}
	var res struct{ Copied, Skipped, Failed int }
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Copied != 0 || res.Skipped != 600 {
		t.Fatalf("re-sync: %v %+v\n%s", err, res, out)
	}
	n := requestCounts(src.Requests()[before:])
	t.Logf("re-sync, source requests: %v; target requests: %d", n, len(dst.Requests())-beforeDst)
	if n["GET manifest"] != 0 || n["HEAD manifest"] != 600 || n["tags"] != 100 || n["tags last="] != 0 || n["tags probe"] != 0 || n["catalog"] != 1 {
		t.Errorf("re-sync sent the source %v; want one catalog listing, one tags listing per repository (100), no paging probe (the state knows), one manifest HEAD per tag (600), no manifest GET", n)
	}
	if k := len(dst.Requests()) - beforeDst; k != 0 {
		t.Errorf("re-sync sent the target %d requests, want none", k)
	}

	before = len(src.Requests())
	if out, stderr, code = runHoist(t, env, "sync", "--fast", cfg); code != 0 {
		t.Fatalf("fast re-sync: exit %d\n%s\n%s", code, out, stderr)
	}
	n = requestCounts(src.Requests()[before:])
	t.Logf("fast re-sync, source requests: %v", n)
	if n["GET manifest"] != 0 || n["HEAD manifest"] != 0 || n["tags"] != 100 || n["tags last="] != 0 || n["catalog"] != 1 {
		t.Errorf("--fast re-sync sent the source %v; want the 100 listings only", n)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// TestSyncPagedCatalog: a docker-registry that pages its catalog 20 at a
// time; all 50 repositories matched are synced.
func TestSyncPagedCatalog(t *testing.T) {
	srcHost := testutil.DockerRegistryWith(t, "catalog:\n  maxentries: 20\n")
	dstHost, _ := startServe(t)
	repos := names("team/r", 50)
	want := populate(t, srcHost, repos, []string{"v1"})
	resp, err := http.Get("http://" + srcHost + "/v2/_catalog")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Link") == "" {
		t.Fatal("the source does not page its catalog: the test proves nothing")
	}
	dir := t.TempDir()
	cfg := writeFile(t, filepath.Join(dir, "sync.yaml"), fmt.Sprintf("sync: [{source: %s, match: ['team/.*'], target: %s/copy}]\n", srcHost, dstHost))
	out, stderr, code := runHoist(t, []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}, "sync", "--no-state", cfg)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	got := targetContents(t, dstHost)
	if len(got) != 50 {
		t.Fatalf("the target holds %d tags, want 50", len(got))
	}
	for _, r := range repos {
		if got["copy/"+r+":v1"] != want[r+":v1"] {
			t.Errorf("copy/%s:v1 = %q, want %s", r, got["copy/"+r+":v1"], want[r+":v1"])
		}
	}
}

// TestSyncNoOpFromDockerRegistry: docker-registry 2.x sends whole tags
// lists, in storage order, and ignores last=. The first sync learns that
// once, with a probe of one or two requests; the re-sync, with nothing
// changed, sends one listing per repository and one manifest HEAD per
// tag, and nothing more: no last= request after each listing, no probe,
// no manifest GET.
func TestSyncNoOpFromDockerRegistry(t *testing.T) {
	srcHost := testutil.DockerRegistry(t)
	dstHost := testutil.DockerRegistry(t)
	repos := names("team/r", 6)
	populate(t, srcHost, repos, []string{"1.0", "1.1", "2.0", "latest"})
	src := testutil.NewFaultProxy(t, "http://"+srcHost)
	dir := t.TempDir()
	var images strings.Builder
	for _, r := range repos {
		fmt.Fprintf(&images, "        %s: ^1\\.\n", r)
	}
	cfg := writeFile(t, filepath.Join(dir, "skopeo.yaml"), fmt.Sprintf("%s:\n    images-by-tag-regex:\n%s    tls-verify: false\n", src.Host, images.String()))
	env := []string{"XDG_STATE_HOME=" + filepath.Join(dir, "state"), "XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}
	out, stderr, code := runHoist(t, env, "sync", cfg, dstHost+"/mirror")
	if code != 0 {
		t.Fatalf("first sync: exit %d\n%s\n%s", code, out, stderr)
	}
	n := requestCounts(src.Requests())
	t.Logf("first sync, source requests: %v; TLS attempts: %d", n, src.TLSAttempts())
	if k := src.TLSAttempts(); k != 1 {
		t.Errorf("first sync: %d TLS attempts at the plain-http source, want 1 (the first request finds the scheme out for all)", k)
	}
	// The probe's answer to n=1 is the whole list in storage order, which
	// shows a registry that pages nothing; a list sorted by chance takes
	// one more request (last=) to show it.
	if n["tags probe"] != 1 || n["tags"] != len(repos) || n["tags last="] > 1 {
		t.Errorf("first sync sent the source %v; want the probe (n=1, and at most one last=) and one listing per repository", n)
	}
	if got := len(targetContents(t, dstHost)); got != 2*len(repos) {
		t.Fatalf("the target holds %d tags, want %d", got, 2*len(repos))
	}
	before, tlsBefore := len(src.Requests()), src.TLSAttempts()
	if out, stderr, code = runHoist(t, env, "sync", cfg, dstHost+"/mirror"); code != 0 {
		t.Fatalf("re-sync: exit %d\n%s\n%s", code, out, stderr)
	}
	n = requestCounts(src.Requests()[before:])
	t.Logf("re-sync, source requests: %v", n)
	want := map[string]int{"tags": len(repos), "HEAD manifest": 2 * len(repos)}
	if !maps.Equal(n, want) {
		t.Errorf("re-sync sent the source %v, want %v", n, want)
	}
	if k := src.TLSAttempts() - tlsBefore; k != 0 {
		t.Errorf("re-sync: %d TLS attempts at the plain-http source, want none (the state knows it speaks plain http)", k)
	}
}

// TestSyncSkopeoFormat runs one skopeo sync config through skopeo sync
// and hoist sync into two registries: they end up holding the same
// repositories, tags and digests.
func TestSyncSkopeoFormat(t *testing.T) {
	skopeo := testutil.NeedBinary(t, "skopeo", "apt-get install skopeo")
	srcHost := testutil.DockerRegistry(t)
	populate(t, srcHost, []string{"library/busybox", "team/redis", "team/nginx", "deep/path/etcd"},
		[]string{"1.0", "2.0", "1.13.1-alpine-perl", "1.13.3-alpine-perl", "latest"})
	pinned := targetContents(t, srcHost)["deep/path/etcd:1.0"]
	dir := t.TempDir()
	cfg := writeFile(t, filepath.Join(dir, "skopeo.yaml"), fmt.Sprintf(`
%s:
    images:
        library/busybox: []
        team/redis:
            - "1.0"
            - "2.0"
        deep/path/etcd:
            - %s
    images-by-tag-regex:
        team/nginx: ^1\.13\.[12]-alpine-perl$
    tls-verify: false
`, srcHost, pinned))
	bySkopeo, byHoist := testutil.DockerRegistry(t), testutil.DockerRegistry(t)
	home := t.TempDir()
	peer(t, home, skopeo, "sync", "--src", "yaml", "--dest", "docker", "--dest-tls-verify=false", cfg, bySkopeo+"/mirror")
	out, stderr, code := runHoist(t, []string{"XDG_STATE_HOME=" + filepath.Join(dir, "state"), "XDG_CACHE_HOME=" + filepath.Join(dir, "cache")},
		"sync", cfg, byHoist+"/mirror")
	if code != 0 {
		t.Fatalf("hoist sync: exit %d\n%s\n%s", code, out, stderr)
	}
	s, h := targetContents(t, bySkopeo), targetContents(t, byHoist)
	keys := func(m map[string]string) []string {
		var k []string
		for x := range m {
			k = append(k, x)
		}
		sort.Strings(k)
		return k
	}
	if !slices.Equal(keys(s), keys(h)) {
		t.Fatalf("skopeo's target holds %v\nhoist's holds %v", keys(s), keys(h))
	}
	for k, d := range s {
		if h[k] != d {
			t.Errorf("%s: skopeo wrote %s, hoist %s", k, d, h[k])
		}
	}
	// A pinned digest is in both, untagged: by digest.
	for _, host := range []string{bySkopeo, byHoist} {
		r, _ := remote.New(reference.Reference{Registry: host, Repository: "mirror/etcd"}, client)
		if _, err := r.Resolve(context.Background(), pinned); err != nil {
			t.Errorf("%s has no mirror/etcd@%s: %v", host, pinned, err)
		}
	}
	t.Logf("both targets: %v", keys(h))
}

// TestSyncRateLimited: the source is behind a Docker Hub-style quota (8
// manifest GETs per 3 s) that answers 429 past it. hoist pauses before
// the quota runs out, says so, gets no 429, and copies everything.
func TestSyncRateLimited(t *testing.T) {
	srcHost := testutil.DockerRegistry(t)
	dstHost := testutil.DockerRegistry(t)
	want := populate(t, srcHost, []string{"hub/app"}, names("v", 20))
	q := &testutil.Quota{Limit: 8, Window: 3 * time.Second}
	front := testutil.NewFaultProxy(t, "http://"+srcHost, q.Fault())
	dir := t.TempDir()
	cfg := writeFile(t, filepath.Join(dir, "sync.yaml"), fmt.Sprintf("sync: [{source: %s/hub/app, target: %s/hub/app}]\n", front.Host, dstHost))
	out, stderr, code := runHoist(t, []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}, "sync", "--no-state", cfg)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	if n := q.Rejected(); n != 0 {
		t.Errorf("the quota answered %d requests 429; hoist should have paused before", n)
	}
	if !strings.Contains(stderr, "waiting") || !strings.Contains(stderr, "0 of 8 requests left") {
		t.Errorf("stderr does not say why it waited:\n%s", stderr)
	}
	got := targetContents(t, dstHost)
	for k, d := range want {
		if got[k] != d {
			t.Errorf("%s: %q, want %s", k, got[k], d)
		}
	}
	t.Logf("%d manifest GETs let through; stderr:\n%s", q.Spent(), stderr)
}

// TestSyncInterval: --interval keeps syncing, serves its last result at
// /status, and stops cleanly, exit 0, on SIGTERM.
func TestSyncInterval(t *testing.T) {
	srcHost := testutil.DockerRegistry(t)
	dstHost, _ := startServe(t)
	populate(t, srcHost, []string{"app"}, []string{"v1", "v2"})
	dir := t.TempDir()
	cfg := writeFile(t, filepath.Join(dir, "sync.yaml"), fmt.Sprintf("sync: [{source: %s/app, target: %s/app}]\n", srcHost, dstHost))
	port := testutil.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(hoistBin, "sync", "--no-state", "--interval", "500ms", "--listen", addr, cfg)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	deadline := time.Now().Add(20 * time.Second)
	var status struct {
		Copied, Skipped int
		Items           []any
	}
	for runs := 0; ; {
		resp, err := http.Get("http://" + addr + "/status")
		if err == nil {
			if resp.StatusCode == http.StatusOK {
				json.NewDecoder(resp.Body).Decode(&status)
				if status.Skipped == 2 { // a later run: everything there
					runs++
				}
			}
			resp.Body.Close()
		}
		if runs > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no second run's result at /status within 20s (last: %+v)\n%s", status, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after SIGTERM: %v, want exit 0\n%s", err, logs.String())
		}
		if !strings.Contains(logs.String(), "sync: stopped") {
			t.Errorf("no word of the stop:\n%s", logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("hoist sync did not stop within 15s of SIGTERM")
	}
}
