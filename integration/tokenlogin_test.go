//go:build integration

package integration

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// writeHtpasswd writes user:bcrypt(password) lines, as docker-registry
// and the token server read them.
func writeHtpasswd(t *testing.T, path string, users map[string]string) {
	t.Helper()
	var b strings.Builder
	for u, p := range users {
		h, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s:%s\n", u, h)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// tokenSigner writes an EC key the token server signs with and a
// certificate for it, the registry's rootcertbundle (the registry finds
// the key by the token's kid, the key's libtrust fingerprint).
func tokenSigner(t *testing.T, dir string) (keyFile, bundle string) {
	t.Helper()
	ca := testutil.NewCA(t, "hoist token signer")
	der, err := x509.MarshalECPrivateKey(ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile, bundle = filepath.Join(dir, "signer.key"), filepath.Join(dir, "signer.crt")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
	os.WriteFile(bundle, ca.CertPEM, 0o600)
	return keyFile, bundle
}

// testLayout writes a small image to an OCI layout under dir, tagged v1.
func testLayout(t *testing.T, dir, seed string, layerBytes int) string {
	t.Helper()
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: seed, Layers: 2, LayerBytes: layerBytes})
	writeLayout(t, dir, img)
	return img.Root.Digest.String()
}

// TestTokenLoginWithoutAnonymousTokens logs in to, pushes to and pulls
// from Debian's docker-registry (distribution 2.8) behind distribution's
// own contrib/token-server, which refuses anonymous token requests.
func TestTokenLoginWithoutAnonymousTokens(t *testing.T) {
	tokenServer := testutil.NeedBinary(t, "docker-token-server", "run .ci/tools, which builds distribution's contrib/token-server")
	dir := t.TempDir()
	key, bundle := tokenSigner(t, dir)
	passwd := filepath.Join(dir, "htpasswd")
	writeHtpasswd(t, passwd, map[string]string{"alice": "wonderland"})
	tport := testutil.FreePort(t)
	testutil.StartProcess(t, tport, tokenServer, "-addr", "127.0.0.1:"+strconv.Itoa(tport),
		"-realm", "hoist-it", "-issuer", "hoist-it-issuer", "-key", key, "-passwd", passwd)
	reg := testutil.DockerRegistryWith(t, fmt.Sprintf(`auth:
  token:
    realm: http://127.0.0.1:%d/token/
    service: hoist-it-registry
    issuer: hoist-it-issuer
    rootcertbundle: %s
`, tport, bundle))

	// Before any login: protocol detection must see v2 (not "speaks
	// neither registry protocol"), and the pull must say what to do.
	anon := []string{"DOCKER_CONFIG=" + filepath.Join(dir, "anon")}
	_, stderr, code := runHoist(t, anon, "pull", reg+"/alice/app:v1", "oci:"+filepath.Join(dir, "pulled-anon"))
	t.Logf("pull without credentials: %s", stderr)
	if code != 1 {
		t.Fatalf("pull without credentials: exit %d, want 1: %s", code, stderr)
	}
	for _, want := range []string{"authentication required", "hoist login " + reg, "http://" + reg + "/v2/"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("pull without credentials says %q; want it to contain %q", stderr, want)
		}
	}
	if strings.Contains(stderr, "neither") || strings.Contains(stderr, "https://") {
		t.Errorf("pull without credentials: %q", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "pulled-anon", "blobs")); err == nil {
		// Debris is another task's; only note it.
		t.Logf("note: the failed pull left a layout behind")
	}

	// A wrong password is refused by name; nothing is stored.
	cfg := []string{"DOCKER_CONFIG=" + filepath.Join(dir, "config")}
	_, stderr, code = runHoistIn(t, "nope\n", cfg, "login", reg, "-u", "alice", "--password-stdin")
	if code != 1 || !strings.Contains(stderr, "alice") {
		t.Fatalf("login with a wrong password: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "config", "config.json")); err == nil {
		t.Fatal("a refused login wrote config.json")
	}

	out, stderr, code := runHoistIn(t, "wonderland\n", cfg, "login", reg, "-u", "alice", "--password-stdin")
	if code != 0 || !strings.Contains(out, "Login Succeeded") {
		t.Fatalf("login: exit %d: %s%s", code, out, stderr)
	}

	want := testLayout(t, filepath.Join(dir, "src"), "token", 200_000)
	if _, stderr, code := runHoist(t, cfg, "push", "oci:"+filepath.Join(dir, "src")+":v1", reg+"/alice/app:v1"); code != 0 {
		t.Fatalf("push after login: exit %d: %s", code, stderr)
	}
	out, stderr, code = runHoist(t, cfg, "pull", reg+"/alice/app:v1", "oci:"+filepath.Join(dir, "pulled")+":v1")
	if code != 0 || !strings.Contains(out, want) {
		t.Fatalf("pull after login: exit %d, want %s: %s%s", code, want, out, stderr)
	}

	// Stale stored credentials do not stop a new login either.
	os.WriteFile(filepath.Join(dir, "config", "config.json"), []byte(`{"auths":{"`+reg+`":{"auth":"YWxpY2U6b2xk"}}}`), 0o600)
	if out, stderr, code := runHoistIn(t, "wonderland\n", cfg, "login", reg, "-u", "alice", "--password-stdin"); code != 0 {
		t.Fatalf("login over stale credentials: exit %d: %s%s", code, out, stderr)
	}
}
