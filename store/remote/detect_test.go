package remote

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/hosts"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/legacy"
	"github.com/hoist-dev/hoist/transport"
)

// detectClient is the stack the command detects with: hoist's transport
// and the auth transport with cred.
func detectClient(t *testing.T, host string, cred auth.Credential) (*http.Client, *transport.Transport) {
	tr := transport.New(transport.WithHosts(&hosts.Config{CertsDirs: []string{}}), transport.WithRetryPolicy(transport.RetryPolicy{MaxAttempts: 1}))
	t.Cleanup(tr.CloseIdleConnections)
	return transport.NewClient(auth.NewTransport(tr, host, auth.Static(cred))), tr
}

// A registry behind a token server that refuses anonymous requests is v2,
// whether there are no credentials yet (before a login) or stale ones.
func TestDetectTokenAuthWithoutAnonymousTokens(t *testing.T) {
	ts := testutil.NewTokenServer(t, map[string]string{"alice": "secret"}, time.Hour, false)
	ts.RefuseAnonymous()
	reg := testutil.NewRegistry(t, testutil.WithTokenAuth(ts))
	for name, cred := range map[string]auth.Credential{"none": {}, "stale": {Username: "alice", Password: "old"}} {
		t.Run(name, func(t *testing.T) {
			c, tr := detectClient(t, reg.Host, cred)
			p, err := Detect(ctx, reg.Host, c, legacy.WithTransport(tr))
			if err != nil || p != V2 {
				t.Fatalf("Detect = %q, %v; want v2", p, err)
			}
		})
	}
	if n := len(ts.Requests()); n != 0 {
		t.Fatalf("detection asked the token server %d times, want never", n)
	}
}

// Nothing listening is "unreachable", not a protocol verdict.
func TestDetectUnreachable(t *testing.T) {
	host := closedPort(t)
	c, tr := detectClient(t, host, auth.Credential{})
	_, err := Detect(ctx, host, c, legacy.WithTransport(tr))
	if !errors.Is(err, ErrUnreachable) || strings.Contains(err.Error(), "neither") {
		t.Fatalf("Detect of a closed port: %v; want ErrUnreachable", err)
	}
}

// closedPort returns host:port of a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	srv := testutil.NewRegistry(t)
	srv.Server.Close()
	return srv.Host
}
