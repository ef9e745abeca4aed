package cli

import (
	"strings"
	"testing"
)

// Without hoist-serve beside hoist or on PATH, hoist serve says how to
// install it, and hoist help serve still explains the verb.
func TestServeWithoutServerProgram(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, stderr, code := hoist(t, "", "serve", "--addr", "127.0.0.1:0")
	if code != exitFail || !strings.Contains(stderr, "hoist serve runs the hoist-serve program") || !strings.Contains(stderr, "./cmd/hoist-serve") {
		t.Errorf("hoist serve without hoist-serve: exit %d, %q", code, stderr)
	}
	out, _, code := hoist(t, "", "help", "serve")
	if code != 0 || !strings.Contains(out, "hoist serve --addr") || !strings.Contains(out, "hoist-serve") {
		t.Errorf("hoist help serve without hoist-serve: exit %d\n%s", code, out)
	}
}
