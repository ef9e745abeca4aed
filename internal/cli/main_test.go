package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// hoist runs the CLI in-process and returns stdout, stderr and the exit code.
func hoist(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"ping"}, {"ping", "--no-such-flag", "x"}, {"ping", "a/b"}, {"-q", "-v", "ping", "x"}} {
		_, stderr, code := hoist(t, "", args...)
		if code != exitUsage || !strings.HasPrefix(stderr, "hoist: ") {
			t.Errorf("hoist %v: exit %d, stderr %q; want 2 and a one-line reason", args, code, stderr)
		}
	}
	out, _, code := hoist(t, "", "--version")
	if code != 0 || !strings.HasPrefix(out, "hoist ") {
		t.Errorf("--version: %d %q", code, out)
	}
}
