package cli

import (
	"os"
	"strings"
	"testing"
)

func TestReadPassword(t *testing.T) {
	for in, want := range map[string]string{
		"hunter2\n":       "hunter2",
		"hunter2\r\n":     "hunter2",
		"no newline":      "no newline",
		" spaces kept \n": " spaces kept ",
		"two\nlines\n":    "two\nlines",
	} {
		got, err := readPassword(strings.NewReader(in))
		if err != nil || got != want {
			t.Errorf("readPassword(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "\n", strings.Repeat("x", maxPasswordSize+1)} {
		if _, err := readPassword(strings.NewReader(in)); err == nil {
			t.Errorf("readPassword(%d bytes) succeeded", len(in))
		}
	}
}

func TestPromptPasswordNeedsTerminal(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out strings.Builder
	if _, err := promptPassword(f, &out, "Password: "); err == nil || !strings.Contains(err.Error(), "--password-stdin") {
		t.Fatalf("err = %v, want a pointer to --password-stdin", err)
	}
}
