//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// TestCredentialHelperPass logs in through a real credential helper:
// Debian's docker-credential-pass over pass and a throwaway gpg key. The
// password must land in the helper, never in config.json, and logout must
// erase it there.
func TestCredentialHelperPass(t *testing.T) {
	helper := testutil.NeedBinary(t, "docker-credential-pass", "apt-get install golang-docker-credential-helpers")
	testutil.NeedBinary(t, "pass", "apt-get install pass")
	gpg := testutil.NeedBinary(t, "gpg", "apt-get install gnupg")

	dir := t.TempDir()
	env := []string{
		"GNUPGHOME=" + filepath.Join(dir, "gnupg"),
		"PASSWORD_STORE_DIR=" + filepath.Join(dir, "pass"),
	}
	os.Mkdir(filepath.Join(dir, "gnupg"), 0o700)
	run := func(stdin string, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	t.Cleanup(func() {
		cmd := exec.Command("gpgconf", "--kill", "gpg-agent")
		cmd.Env = append(os.Environ(), env...)
		cmd.Run()
	})
	run("", gpg, "--batch", "--passphrase", "", "--quick-gen-key", "hoist test <hoist@example.invalid>", "default", "default", "never")
	var fpr string
	for _, line := range strings.Split(run("", gpg, "--list-keys", "--with-colons"), "\n") {
		if strings.HasPrefix(line, "fpr:") {
			fpr = strings.Split(line, ":")[9]
			break
		}
	}
	if fpr == "" {
		t.Fatal("no gpg key fingerprint")
	}
	run("", "pass", "init", fpr)

	reg := testutil.NewRegistry(t, testutil.WithHtpasswd(map[string]string{"alice": "s3cret-pass"}))
	cfg := filepath.Join(dir, "docker")
	os.Mkdir(cfg, 0o700)
	os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"credsStore":"pass"}`), 0o600)

	cmd := exec.Command(hoistBin, "--config", cfg, "login", reg.Host, "-u", "alice", "--password-stdin")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader("s3cret-pass\n")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Login Succeeded") {
		t.Fatalf("hoist login: %v\n%s", err, out)
	}
	if list := run("", helper, "list"); !strings.Contains(list, reg.Host) {
		t.Fatalf("the helper does not list %s after login: %s", reg.Host, list)
	}
	if got := run(reg.Host, helper, "get"); !strings.Contains(got, `"Secret":"s3cret-pass"`) || !strings.Contains(got, `"Username":"alice"`) {
		t.Fatalf("the helper holds %s", got)
	}
	if b, _ := os.ReadFile(filepath.Join(cfg, "config.json")); strings.Contains(string(b), "s3cret") || strings.Contains(string(b), "auth\"") {
		t.Fatalf("config.json holds the credential: %s", b)
	}

	// The stored credential is used for registry calls.
	if out, stderr, code := runHoist(t, env, "--config", cfg, "catalog", reg.Host); code != 0 {
		t.Fatalf("catalog with the helper's credential: %d %s %s", code, out, stderr)
	}

	if out, stderr, code := runHoist(t, env, "--config", cfg, "logout", reg.Host); code != 0 {
		t.Fatalf("logout: %d %s %s", code, out, stderr)
	}
	if list := run("", helper, "list"); strings.Contains(list, reg.Host) {
		t.Fatalf("the helper still lists %s after logout: %s", reg.Host, list)
	}
}
