package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// digest, config and inspect -q on a multi-platform image.
func TestDigestConfigQuiet(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	reg := testutil.NewRegistry(t)
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "verbs", Platforms: []string{"linux/amd64", "linux/arm64"}})
	src := filepath.Join(t.TempDir(), "src")
	layoutWith(t, src, "v1", img)
	ref := reg.Host + "/team/app:v1"
	if _, stderr, code := hoist(t, "", "push", src, ref); code != 0 {
		t.Fatal(stderr)
	}
	root, arm := img.Root.Digest.String(), img.Manifests[1].Digest.String()

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"digest", ref}, root},
		{[]string{"digest", "--platform", "linux/arm64", ref}, arm},
		{[]string{"digest", "oci:" + src + ":v1"}, root},
		{[]string{"-q", "inspect", ref}, root},
		{[]string{"-q", "inspect", "--platform", "linux/arm64", ref}, root},
	} {
		out, stderr, code := hoist(t, "", tt.args...)
		if code != 0 || out != tt.want+"\n" {
			t.Errorf("hoist %q: %d %q %s; want %s", tt.args, code, out, stderr, tt.want)
		}
	}
	out, _, _ := hoist(t, "", "--json", "digest", "--platform", "linux/arm64", ref)
	var dd digestDoc
	if json.Unmarshal([]byte(out), &dd) != nil || dd.Digest != arm || dd.Platform != "linux/arm64" {
		t.Errorf("digest --json: %s", out)
	}

	out, stderr, code := hoist(t, "", "config", "--platform", "linux/arm64", ref)
	sum := sha256.Sum256([]byte(out))
	if code != 0 || "sha256:"+hex.EncodeToString(sum[:]) != img.Configs[1].Digest.String() {
		t.Errorf("config --platform linux/arm64: %d, %d bytes %s; want the config %s", code, len(out), stderr, img.Configs[1].Digest)
	}
	_, stderr, code = hoist(t, "", "config", ref)
	if code != exitUsage || !strings.Contains(stderr, "--platform") || !strings.Contains(stderr, "linux/arm64") {
		t.Errorf("config of an index: %d %s; want a usage error naming --platform and the platforms", code, stderr)
	}
	out, _, _ = hoist(t, "", "--json", "config", "--platform", "linux/amd64", ref)
	var cd configDoc
	if json.Unmarshal([]byte(out), &cd) != nil || cd.Digest != img.Configs[0].Digest.String() || !json.Valid(cd.Config) {
		t.Errorf("config --json: %s", out)
	}
	out, _, _ = hoist(t, "", "--json", "manifest", ref)
	var md manifestDoc
	if json.Unmarshal([]byte(out), &md) != nil || md.Digest != root {
		t.Errorf("manifest --json: %s", out)
	}

	// Issue 9, defect 11: a reference by digest is printed with '@'.
	missing := reg.Host + "/team/app@sha256:" + strings.Repeat("0", 64)
	_, stderr, code = hoist(t, "", "inspect", missing)
	if code != 1 || !strings.Contains(stderr, missing) || strings.Contains(stderr, "app:sha256:") {
		t.Errorf("inspect of a missing digest: %d %s; want it named %s", code, stderr, missing)
	}
}

// ping --json has camelCase keys, like every other document.
func TestPingJSONCamelCase(t *testing.T) {
	reg := testutil.NewRegistry(t)
	out, stderr, code := hoist(t, "", "--json", "ping", reg.Host)
	var doc map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("ping --json: %d %q %s", code, out, stderr)
	}
	if _, ok := doc["v2Status"]; !ok {
		t.Errorf("ping --json has no v2Status: %s", out)
	}
	for k := range doc {
		if strings.Contains(k, "_") {
			t.Errorf("ping --json key %q is not camelCase", k)
		}
	}
}

// login and logout print JSON documents too.
func TestLoginLogoutJSON(t *testing.T) {
	reg := testutil.NewRegistry(t, testutil.WithHtpasswd(map[string]string{"alice": "secret"}))
	cfg := t.TempDir()
	out, stderr, code := hoist(t, "secret\n", "--config", cfg, "--json", "login", reg.Host, "-u", "alice", "--password-stdin")
	var in loginDoc
	if code != 0 || json.Unmarshal([]byte(out), &in) != nil || in.Server != reg.Host || in.Username != "alice" {
		t.Fatalf("login --json: %d %q %s", code, out, stderr)
	}
	for _, removed := range []bool{true, false} {
		out, stderr, code = hoist(t, "", "--config", cfg, "--json", "logout", reg.Host)
		var lo logoutDoc
		if code != 0 || json.Unmarshal([]byte(out), &lo) != nil || lo.Removed != removed {
			t.Errorf("logout --json (removed %t): %d %q %s", removed, code, out, stderr)
		}
	}
	_, stderr, code = hoist(t, "wrong\n", "--config", cfg, "--json", "login", reg.Host, "-u", "alice", "--password-stdin")
	var e jsonError
	if code != 1 || json.Unmarshal([]byte(stderr), &e) != nil || e.Kind != kindUnauthorized {
		t.Errorf("login with a wrong password, --json: %d %s", code, stderr)
	}
}
