package auth

import (
	"errors"
	"os"
	"strings"
	"testing"

	hoisttransport "github.com/hoist-dev/hoist/transport"
)

func TestReadPassword(t *testing.T) {
	for in, want := range map[string]string{
		"hunter2\n":       "hunter2",
		"hunter2\r\n":     "hunter2",
		"no newline":      "no newline",
		" spaces kept \n": " spaces kept ",
		"two\nlines\n":    "two\nlines",
	} {
		got, err := ReadPassword(strings.NewReader(in))
		if err != nil || got != want {
			t.Errorf("ReadPassword(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "\n", strings.Repeat("x", maxPasswordSize+1)} {
		if _, err := ReadPassword(strings.NewReader(in)); err == nil {
			t.Errorf("ReadPassword(%d bytes) succeeded", len(in))
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
	_, err = PromptPassword(f, &out, "Password: ")
	var oh *hoisttransport.OptionHint
	if !errors.As(err, &oh) || oh.Option != "auth.ReadPassword" {
		t.Fatalf("err = %v, want a pointer to ReadPassword (the command names --password-stdin)", err)
	}
}
