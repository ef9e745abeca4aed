package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// Issue 9, defect 9: every usage error exits 2, with a one-line reason.
func TestEveryUsageErrorExits2(t *testing.T) {
	for _, args := range [][]string{
		{"bogus"},
		{"pul", "x"},
		{"help", "bogus"},
		{"pull"},
		{"pull", "a", "b", "c"},
		{"push", "a"},
		{"login", "a", "b"},
		{"logout", "a", "b"},
		{"digest"},
		{"config", "a", "b"},
		{"tag", "a"},
		{"untag"},
		{"completion"},
		{"completion", "tcsh"},
		{"pull", "--concurrency", "-3", "localhost:5000/x"},
		{"copy", "--concurrency", "0", "localhost:5000/x", "localhost:5000/y"},
		{"--insecure-registry", "not a host!", "digest", "localhost:5000/x"},
		{"--insecure-registry", "http://registry.example.com/", "digest", "localhost:5000/x"},
		{"--insecure-registry", "registry.example.com:99999", "digest", "localhost:5000/x"},
		{"tags", "--limit", "-1", "localhost:5000/x"},
		{"catalog", "--limit", "-5", "localhost:5000"},
		{"--protocol", "v3", "digest", "localhost:5000/x"},
		{"pull", "--format", "squashfs", "localhost:5000/x"},
		{"pull", "--platform", "linux/", "localhost:5000/x"},
		{"--no-such-flag", "ping", "x"},
		{"blob", "--json", "localhost:5000/x@sha256:" + strings.Repeat("a", 64)},
		{"--json", "completion", "bash"},
	} {
		_, stderr, code := hoist(t, "", args...)
		prefix := "hoist: "
		if args[0] == "--json" || (len(args) > 1 && args[1] == "--json") {
			prefix = `{"message":`
		}
		if code != exitUsage || !strings.HasPrefix(stderr, prefix) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("hoist %q: exit %d, stderr %q; want 2 and a one-line reason", args, code, stderr)
		}
	}
	_, stderr, _ := hoist(t, "", "pull", "--concurrency", "-3", "localhost:5000/x")
	if !strings.Contains(stderr, "--concurrency") || strings.Contains(stderr, "WithConcurrency") {
		t.Errorf("the error names the library option, not the flag: %s", stderr)
	}
	_, stderr, _ = hoist(t, "", "--insecure-registry", "not a host!", "digest", "localhost:5000/x")
	if !strings.Contains(stderr, "--insecure-registry") || !strings.Contains(stderr, `"not a host!"`) {
		t.Errorf("insecure-registry error: %s", stderr)
	}
}

// Under --json an error is one JSON object on stderr: message, kind,
// exit code.
func TestJSONErrors(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	repo := ggcrRegistry(t) + "/team/app"
	for _, tt := range []struct {
		args []string
		kind string
		code int
	}{
		{[]string{"--json", "bogus"}, kindUsage, 2},
		{[]string{"--json", "pull", "--concurrency", "-3", repo}, kindUsage, 2},
		{[]string{"--json", "digest", repo + ":missing"}, kindNotFound, 1},
		{[]string{"--json", "inspect", "127.0.0.1:1/team/app:v1"}, kindNetwork, 1},
	} {
		out, stderr, code := hoist(t, "", tt.args...)
		var e jsonError
		if err := json.Unmarshal([]byte(stderr), &e); err != nil || out != "" {
			t.Errorf("hoist %q: stdout %q, stderr %q is not one JSON object: %v", tt.args, out, stderr, err)
			continue
		}
		if e.Kind != tt.kind || e.ExitCode != tt.code || code != tt.code || e.Message == "" {
			t.Errorf("hoist %q: exit %d, %+v; want kind %s, exit %d", tt.args, code, e, tt.kind, tt.code)
		}
	}
}

// hoist help VERB documents every verb with an example; tags says the
// order is the registry's.
func TestHelpOfEveryVerb(t *testing.T) {
	for _, verb := range []string{"pull", "push", "copy", "tags", "inspect", "manifest", "blob", "delete", "catalog", "search", "login", "logout", "ping", "digest", "config", "tag", "untag", "completion", "serve", "referrers", "attach", "artifact"} {
		out, stderr, code := hoist(t, "", "help", verb)
		_, examples, _ := strings.Cut(out, "Examples:\n")
		if code != 0 || !strings.Contains(examples, "hoist "+verb+" ") {
			t.Errorf("hoist help %s: exit %d, no example:\n%s%s", verb, code, out, stderr)
		}
	}
	out, _, _ := hoist(t, "", "help", "tags")
	if !strings.Contains(out, "in the order the registry\nreturns them: hoist does not sort them") {
		t.Errorf("hoist help tags does not say the order is the registry's:\n%s", out)
	}
}

func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "__start_hoist", "zsh": "#compdef hoist", "fish": "complete -c hoist"} {
		out, stderr, code := hoist(t, "", "completion", shell)
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("completion %s: exit %d, %d bytes without %q; %s", shell, code, len(out), want, stderr)
		}
	}
	// The script asks hoist itself for completions: verbs come back.
	out, _, code := hoist(t, "", "__complete", "unt")
	if code != 0 || !strings.Contains(out, "untag") {
		t.Errorf("__complete unt: %d %q", code, out)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := hoist(t, "", "--version")
	if code != 0 || !strings.HasPrefix(out, "hoist ") {
		t.Errorf("--version: %d %q", code, out)
	}
	out, _, code = hoist(t, "", "--json", "--version")
	var v versionDoc
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.Version == "" || v.GoVersion == "" {
		t.Errorf("--json --version: %d %q", code, out)
	}
}
