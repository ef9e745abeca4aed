package cli

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// -v logs every request, and must never show a credential: not the
// password, not its Basic encoding, not a token.
func TestVerboseRedactsCredentials(t *testing.T) {
	ts := testutil.NewTokenServer(t, map[string]string{"carol": "hunter2-secret"}, time.Minute, false)
	reg := testutil.NewRegistry(t, testutil.WithTokenAuth(ts))
	cfg := t.TempDir()
	_, stderr, code := hoist(t, "hunter2-secret", "-v", "--config", cfg, "login", reg.Host, "-u", "carol", "--password-stdin")
	if code != 0 {
		t.Fatalf("login: %d %s", code, stderr)
	}
	_, stderr2, code := hoist(t, "", "-v", "--config", cfg, "catalog", reg.Host)
	if code != 0 {
		t.Fatalf("catalog: %d %s", code, stderr2)
	}
	all := stderr + stderr2
	basic := base64.StdEncoding.EncodeToString([]byte("carol:hunter2-secret"))
	for _, secret := range []string{"hunter2-secret", basic, "eyJ"} { // eyJ: the start of every JWT
		if strings.Contains(all, secret) {
			t.Errorf("-v output contains %q", secret)
		}
	}
	if !strings.Contains(all, "[redacted]") || !strings.Contains(all, "/v2/_catalog") {
		t.Errorf("-v output does not log the requests with redaction:\n%s", all)
	}
}
