package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/testutil"
)

func TestLoginLogoutBasic(t *testing.T) {
	reg := testutil.NewRegistry(t, testutil.WithHtpasswd(map[string]string{"alice": "s3cret"}))
	cfg := t.TempDir()
	orig := []byte(`{"auths":{},"proxies":{"default":{"httpProxy":"http://proxy:3128"}},"currentContext":"x","unknownKey":[1,2]}`)
	os.WriteFile(filepath.Join(cfg, "config.json"), orig, 0o600)

	// A wrong password: exit 1, the reason, the file untouched.
	_, stderr, code := hoist(t, "wrong\n", "--config", cfg, "login", reg.Host, "-u", "alice", "--password-stdin")
	got, _ := os.ReadFile(filepath.Join(cfg, "config.json"))
	if code != 1 || !bytes.Equal(got, orig) || !strings.Contains(stderr, reg.Host) {
		t.Fatalf("wrong password: exit %d, %q; file changed: %v", code, stderr, !bytes.Equal(got, orig))
	}

	out, stderr, code := hoist(t, "s3cret\n", "--config", cfg, "login", reg.Host, "-u", "alice", "--password-stdin")
	if code != 0 || !strings.Contains(out, "Login Succeeded") {
		t.Fatalf("login: exit %d %s %s", code, out, stderr)
	}
	var doc map[string]json.RawMessage
	got, _ = os.ReadFile(filepath.Join(cfg, "config.json"))
	if err := json.Unmarshal(got, &doc); err != nil || !strings.Contains(string(doc["auths"]), reg.Host) ||
		string(doc["unknownKey"]) != "[1,2]" || !strings.Contains(string(doc["proxies"]), "proxy:3128") {
		t.Fatalf("config.json after login: %s", got)
	}
	if fi, _ := os.Stat(filepath.Join(cfg, "config.json")); fi.Mode().Perm() != 0o600 {
		t.Errorf("config.json mode %v", fi.Mode().Perm())
	}

	// The stored credentials are used: the registry demands them.
	_, stderr, code = hoist(t, "", "--config", cfg, "catalog", reg.Host)
	if code != 0 {
		t.Fatalf("catalog with stored credentials: %d %s", code, stderr)
	}
	_, stderr, code = hoist(t, "", "--config", t.TempDir(), "catalog", reg.Host)
	if code != 1 || !strings.Contains(stderr, "401") && !strings.Contains(strings.ToLower(stderr), "unauthorized") {
		t.Fatalf("catalog without credentials: %d %s", code, stderr)
	}

	out, _, code = hoist(t, "", "--config", cfg, "logout", reg.Host)
	got, _ = os.ReadFile(filepath.Join(cfg, "config.json"))
	if code != 0 || strings.Contains(string(got), reg.Host) || !strings.Contains(string(got), "unknownKey") {
		t.Fatalf("logout: %d %q, file %s", code, out, got)
	}
	out, _, code = hoist(t, "", "--config", cfg, "logout", reg.Host)
	if code != 0 || !strings.Contains(out, "Not logged in") {
		t.Fatalf("second logout: %d %q", code, out)
	}
}

func TestLoginBearer(t *testing.T) {
	ts := testutil.NewTokenServer(t, map[string]string{"bob": "pw"}, time.Minute, false)
	reg := testutil.NewRegistry(t, testutil.WithTokenAuth(ts))
	cfg := t.TempDir()
	out, stderr, code := hoist(t, "pw", "--config", cfg, "login", reg.Host, "-u", "bob", "--password-stdin")
	if code != 0 || !strings.Contains(out, "Login Succeeded") {
		t.Fatalf("login: %d %s %s", code, out, stderr)
	}
	_, stderr, code = hoist(t, "", "--config", cfg, "login", reg.Host, "-u", "bob")
	if code != 2 || !strings.Contains(stderr, "--password-stdin") {
		t.Fatalf("no password and no terminal: %d %s", code, stderr)
	}
}
