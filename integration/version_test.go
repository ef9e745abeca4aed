//go:build integration

package integration

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// Issue 9: --version prints a real version: built from a clone, the
// module's pseudo-version or the VCS revision, either naming the commit.
// (A build that could not stamp the revision, as in a git worktree, says
// "devel"; CI builds in a fresh clone.)
func TestVersionNamesTheCommit(t *testing.T) {
	info, err := exec.Command("go", "version", "-m", hoistBin).Output()
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runHoist(t, nil, "--version")
	if code != 0 || !strings.HasPrefix(out, "hoist ") {
		t.Fatalf("hoist --version: %d %q %s", code, out, stderr)
	}
	m := regexp.MustCompile(`vcs\.revision=([0-9a-f]{12})`).FindSubmatch(info)
	if m == nil {
		t.Logf("the build recorded no revision:\n%s", info)
		if out != "hoist devel\n" {
			t.Errorf("hoist --version = %q without build information; want hoist devel", out)
		}
		return
	}
	if !strings.Contains(out, string(m[1])) {
		t.Fatalf("hoist --version = %q; want it to name commit %s", out, m[1])
	}
	t.Logf("%s", strings.TrimSpace(out))
}
