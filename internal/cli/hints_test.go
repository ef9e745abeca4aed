package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/transport"
)

// Library errors name library options; the command names its flags.
func TestFlagHints(t *testing.T) {
	insecure := fmt.Errorf("pull: %w", &transport.OptionHint{
		Err: errors.New("registry.example.com: plain http is not allowed"), Action: "if it really has no TLS, allow plain http",
		Option: "hosts.Config.Insecure", Value: "registry.example.com",
	})
	cap := fmt.Errorf("inspect: %w", &transport.OptionHint{
		Err: errors.New("manifest app:v1 is larger than the 4 MiB limit"), Action: "raise the cap", Option: "distribution.WithMaxManifestSize",
	})
	for _, tt := range []struct {
		err  error
		want string
	}{
		{insecure, "pull: registry.example.com: plain http is not allowed (if it really has no TLS, allow plain http with --insecure-registry registry.example.com)"},
		{cap, "inspect: manifest app:v1 is larger than the 4 MiB limit"},
		{fmt.Errorf("login: %w", &transport.OptionHint{Err: errors.New("no docker config directory: set $DOCKER_CONFIG or $HOME"), Action: "or name one", Option: "auth.WithConfigDir"}),
			"login: no docker config directory: set $DOCKER_CONFIG or $HOME (or name one with --config DIR)"},
		{fmt.Errorf("push: %w", &transport.OptionHint{Err: errors.New("413 Request Entity Too Large"), Action: "send smaller chunks", Option: "distribution.WithMaxChunkSize"}),
			"push: 413 Request Entity Too Large (send smaller chunks with --chunk-size BYTES)"},
		{errors.New("plain"), "plain"},
	} {
		if got := flagHints(oneLine(tt.err), tt.err); got != tt.want {
			t.Errorf("got  %q\nwant %q", got, tt.want)
		}
	}
}

// Every library option an OptionHint names has its entry in hintFlags, so
// no CLI message names a Go option. The library's sources are the list.
func TestEveryOptionHintIsMapped(t *testing.T) {
	re := regexp.MustCompile(`OptionHint\{[^}]*Option: *"([^"]+)"`)
	err := filepath.WalkDir("../..", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() && (d.Name() == ".tools" || d.Name() == "bench" || strings.HasPrefix(d.Name(), ".")) && p != "../.." {
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			if _, ok := hintFlags[string(m[1])]; !ok {
				t.Errorf("%s: OptionHint names %q, which hintFlags does not map", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
