package cli

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	lib "github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/server"
	"github.com/hoist-dev/hoist/store/ocilayout"
)

// v1Registry runs hoist's v1 server, the only v1 peer there is, with one
// active account.
func v1Registry(t *testing.T) string {
	t.Helper()
	s, err := server.NewV1(t.TempDir(), server.WithV1BcryptCost(bcrypt.MinCost),
		server.WithV1Account(server.V1Account{Username: "foo42", Password: "pa55word", Email: "foo42@example.com", Active: true}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u.Host
}

func TestV1EndToEnd(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	v1 := v1Registry(t)
	v2 := testutil.NewRegistry(t)
	cfg := t.TempDir()

	out, stderr, code := hoist(t, "pa55word", "--config", cfg, "login", v1, "-u", "foo42", "--password-stdin")
	if code != 0 || !strings.Contains(out, "Login Succeeded") {
		t.Fatalf("v1 login: %d %s %s", code, out, stderr)
	}
	_, stderr, code = hoist(t, "wrong", "--config", t.TempDir(), "login", v1, "-u", "foo42", "--password-stdin")
	if code != 1 || !strings.Contains(stderr, "wrong login or password") {
		t.Fatalf("v1 login, wrong password: %d %s", code, stderr)
	}

	out, _, code = hoist(t, "", "ping", v1)
	if code != 0 || !strings.Contains(out, "protocols:   v1") {
		t.Fatalf("ping: %d %s", code, out)
	}

	// Push an OCI image to the v1 registry: FromOCI, then the v1 push.
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "v1 cli", Layers: 3})
	src := filepath.Join(t.TempDir(), "src")
	layoutWith(t, src, "v1", img)
	_, stderr, code = hoist(t, "", "--config", cfg, "push", "oci:"+src+":v1", v1+"/foo42/bar:latest")
	if code != 0 {
		t.Fatalf("push to v1: %d %s", code, stderr)
	}
	out, _, code = hoist(t, "", "--config", cfg, "tags", v1+"/foo42/bar")
	if code != 0 || strings.TrimSpace(out) != "latest" {
		t.Fatalf("v1 tags: %d %q", code, out)
	}
	out, _, code = hoist(t, "", "--config", cfg, "search", "--index", v1, "bar")
	if code != 0 || !strings.Contains(out, "foo42/bar") || !strings.Contains(out, "STARS") {
		t.Fatalf("search: %d %q", code, out)
	}

	// Pull it back: same layers and diff_ids as the original.
	dst := filepath.Join(t.TempDir(), "back")
	_, stderr, code = hoist(t, "", "--config", cfg, "pull", v1+"/foo42/bar:latest", "oci:"+dst+":latest")
	if code != 0 {
		t.Fatalf("pull from v1: %d %s", code, stderr)
	}
	layers, diffIDs := layoutImage(t, dst, "latest")
	for i, l := range img.Layers[0] {
		if layers[i] != l.Digest.String() || diffIDs[i] != img.DiffIDs[0][i].String() {
			t.Fatalf("layer %d after the v1 round trip: %s / %s; want %s / %s", i, layers[i], diffIDs[i], l.Digest, img.DiffIDs[0][i])
		}
	}

	// Migrate to v2, then pull back by digest.
	out, stderr, code = hoist(t, "", "--config", cfg, "-q", "copy", v1+"/foo42/bar:latest", v2.Host+"/migrated/bar:latest")
	if code != 0 {
		t.Fatalf("migrate: %d %s", code, stderr)
	}
	d := strings.TrimSpace(out)
	_, stderr, code = hoist(t, "", "pull", v2.Host+"/migrated/bar@"+d, "oci:"+filepath.Join(t.TempDir(), "bydigest"))
	if code != 0 {
		t.Fatalf("pull by digest after migration: %d %s", code, stderr)
	}

	// v2-only verbs say why they do not apply.
	_, stderr, code = hoist(t, "", "catalog", v1)
	if code != 1 || !strings.Contains(stderr, "v1") {
		t.Fatalf("catalog on v1: %d %s", code, stderr)
	}
}

// layoutImage returns the layer digests and diff_ids of the image tagged
// tag in the layout at dir.
func layoutImage(t *testing.T, dir, tag string) (layers, diffIDs []string) {
	t.Helper()
	ctx := context.Background()
	l, err := ocilayout.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := l.Resolve(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	m, err := lib.FetchManifest(ctx, l, d)
	if err != nil || m.Kind != content.KindImage {
		t.Fatalf("manifest: %v", err)
	}
	rc, err := l.Fetch(ctx, m.Image.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var cfg struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.NewDecoder(rc).Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Image.Layers {
		layers = append(layers, l.Digest.String())
	}
	return layers, cfg.RootFS.DiffIDs
}
