//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store/remote"
)

// syncResult is the part of hoist sync --json's document the tests read.
type syncResult struct {
	DryRun                           bool
	Copied, Skipped, Deleted, Failed int
	Items                            []struct {
		Target, Tag, Action, Reason, Error string
	}
}

func parseSyncResult(t *testing.T, out string) syncResult {
	t.Helper()
	var r syncResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("hoist sync --json: %v\n%s", err, out)
	}
	return r
}

// actions lists a result's items as "ACTION TARGET:TAG", sorted.
func (r syncResult) actions(host string) []string {
	var out []string
	for _, it := range r.Items {
		out = append(out, it.Action+" "+strings.TrimPrefix(it.Target, host+"/")+":"+it.Tag)
	}
	sort.Strings(out)
	return out
}

func keysOf(m map[string]string) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

// TestSyncPlanPruneAndFailures runs hoist sync from the in-process
// distribution registry into hoist serve: --dry-run --json plans and
// writes nothing; a sync copies the plan; --prune deletes only a tag
// gone from the source, leaving the target's tags the filter would
// never mirror and a repository no entry names; a repository that does
// not exist fails alone (the others are synced), is named in the
// summary, and the exit code is 1.
func TestSyncPlanPruneAndFailures(t *testing.T) {
	ctx := context.Background()
	src := testutil.NewRegistry(t)
	dstHost, _ := startServe(t)
	populate(t, src.Host, []string{"team/app"}, []string{"1.0.0", "1.1.0", "1.2.0", "latest"})
	dir := t.TempDir()
	cfg := writeFile(t, filepath.Join(dir, "sync.yaml"), fmt.Sprintf(`
sync:
  - source: %s/team
    repositories: [app]
    target: %s/mirror
    tags: {semver: ">=1.0"}
`, src.Host, dstHost))
	env := []string{"XDG_STATE_HOME=" + filepath.Join(dir, "state"), "XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}

	out, stderr, code := runHoist(t, env, "sync", "--dry-run", "--json", cfg)
	if code != 0 {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, stderr)
	}
	plan := parseSyncResult(t, out)
	want := []string{"copy mirror/app:1.0.0", "copy mirror/app:1.1.0", "copy mirror/app:1.2.0"}
	if !plan.DryRun || plan.Copied != 3 || !slices.Equal(plan.actions(dstHost), want) {
		t.Fatalf("dry run planned %v (dryRun %v), want %v", plan.actions(dstHost), plan.DryRun, want)
	}
	if got := targetContents(t, dstHost); len(got) != 0 {
		t.Fatalf("a dry run wrote the target: %v", keysOf(got))
	}
	t.Logf("dry run: %v", plan.actions(dstHost))

	if out, stderr, code = runHoist(t, env, "sync", cfg); code != 0 {
		t.Fatalf("sync: exit %d\n%s\n%s", code, out, stderr)
	}
	t.Logf("sync: %s", firstLine(out))

	// Beside the mirrored tags, the target holds one the filter would
	// never mirror, and a repository no entry names.
	populate(t, dstHost, []string{"mirror/app"}, []string{"keep-me"})
	populate(t, dstHost, []string{"other/x"}, []string{"1.0.0"})
	// The source drops 1.0.0.
	r, err := remote.New(reference.Reference{Registry: src.Host, Repository: "team/app"}, client)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Untag(ctx, "1.0.0"); err != nil {
		t.Fatalf("untagging the source's 1.0.0: %v", err)
	}

	out, stderr, code = runHoist(t, env, "sync", "--prune", "--dry-run", "--json", cfg)
	if code != 0 {
		t.Fatalf("prune dry run: exit %d\n%s\n%s", code, out, stderr)
	}
	plan = parseSyncResult(t, out)
	want = []string{"delete mirror/app:1.0.0", "skip mirror/app:1.1.0", "skip mirror/app:1.2.0"}
	if !slices.Equal(plan.actions(dstHost), want) {
		t.Fatalf("prune dry run planned %v, want %v", plan.actions(dstHost), want)
	}
	if got := targetContents(t, dstHost); got["mirror/app:1.0.0"] == "" {
		t.Fatal("a dry run pruned the target")
	}

	if out, stderr, code = runHoist(t, env, "sync", "--prune", cfg); code != 0 {
		t.Fatalf("prune: exit %d\n%s\n%s", code, out, stderr)
	}
	t.Logf("prune: %s", firstLine(out))
	got := keysOf(targetContents(t, dstHost))
	want = []string{"mirror/app:1.1.0", "mirror/app:1.2.0", "mirror/app:keep-me", "other/x:1.0.0"}
	if !slices.Equal(got, want) {
		t.Fatalf("after --prune the target holds %v, want %v", got, want)
	}

	// A repository that does not exist fails alone; the exit code is 1.
	populate(t, src.Host, []string{"team/tool"}, []string{"2.0.0"})
	bad := writeFile(t, filepath.Join(dir, "bad.yaml"), fmt.Sprintf(`
sync:
  - source: %s/team
    repositories: [missing, tool]
    target: %s/mirror
`, src.Host, dstHost))
	out, stderr, code = runHoist(t, env, "sync", bad)
	if code != 1 {
		t.Fatalf("a sync with a missing repository: exit %d, want 1\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "1 copied") || !strings.Contains(out, "1 failed") || !strings.Contains(out, "failures:") || !strings.Contains(out, "mirror/missing") {
		t.Errorf("the summary does not count and name the failure:\n%s", out)
	}
	if targetContents(t, dstHost)["mirror/tool:2.0.0"] == "" {
		t.Error("the failing repository stopped the others: mirror/tool:2.0.0 is not in the target")
	}
	t.Logf("failing run, exit %d:\n%s", code, out)
}

// TestSyncV1SourceSaysSo: a source that speaks only the legacy v1
// protocol (a static v1 tree on a web server) fails with an error that
// says so, not with the 404 of its missing v2 API.
func TestSyncV1SourceSaysSo(t *testing.T) {
	root := t.TempDir()
	id := strings.Repeat("ab", 32)
	testutil.WriteV1Tree(t, root, "team/app", map[string]string{"v1": id},
		[]testutil.V1TreeImage{{ID: id, JSON: []byte(`{"id":"` + id + `"}`), Layer: []byte("layer"), Ancestry: []string{id}}})
	srv := httptest.NewServer(http.FileServer(http.Dir(root)))
	t.Cleanup(srv.Close)
	dstHost, _ := startServe(t)
	dir := t.TempDir()
	cfg := writeFile(t, filepath.Join(dir, "sync.yaml"), fmt.Sprintf("sync: [{source: %s/team/app, target: %s/app}]\n", srv.Listener.Addr(), dstHost))
	out, stderr, code := runHoist(t, []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}, "sync", "--no-state", cfg)
	if code != 1 || !strings.Contains(out, "speaks only the legacy v1 protocol") {
		t.Fatalf("exit %d, want 1 and a failure naming the v1 protocol\n%s\n%s", code, out, stderr)
	}
	t.Logf("%s", out)
}
