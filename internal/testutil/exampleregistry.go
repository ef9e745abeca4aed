package testutil

import (
	"context"
	"net/http/httptest"
	"strings"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
)

// StartExampleRegistry starts a distribution v3 registry on 127.0.0.1 with
// in-memory storage, delete enabled and no auth, for runnable Example
// functions, which have no testing.TB to clean up after. It returns the
// registry's host:port and a function that stops it. It panics if the
// registry cannot start.
func StartExampleRegistry() (host string, stop func()) {
	const y = "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n" +
		"http:\n  secret: hoist-example-secret\n" +
		"storage:\n  inmemory: {}\n  delete:\n    enabled: true\n"
	cfg, err := configuration.Parse(strings.NewReader(y))
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := httptest.NewServer(handlers.NewApp(ctx, cfg))
	return srv.Listener.Addr().String(), func() {
		srv.Close()
		cancel()
	}
}
