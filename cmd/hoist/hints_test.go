package main

import (
	"errors"
	"fmt"
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
		{errors.New("plain"), "plain"},
	} {
		if got := flagHints(oneLine(tt.err), tt.err); got != tt.want {
			t.Errorf("got  %q\nwant %q", got, tt.want)
		}
	}
}
