//go:build integration

package integration

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/legacy"
	"github.com/hoist-dev/hoist/server"
)

// testdataChain is the original client's two-image chain, served from
// legacy/testdata/v1: 77dbf71d… is the base, 42d718c9… its child.
type testdataChain struct{ dir string }

func (c testdataChain) IDs() []string {
	return []string{"77dbf71da1d00e3fbddc480176eac8994025630c6590d11cfc8fe1209c2a1d20", "42d718c941f5c532ac049bf0b0ab53f0062f09a03afd4aa4a02c098e46032b9d"}
}
func (c testdataChain) JSON(_ context.Context, id string) ([]byte, error) {
	return os.ReadFile(filepath.Join(c.dir, id, "json"))
}
func (c testdataChain) Layer(_ context.Context, id string) (io.ReadCloser, error) {
	return os.Open(filepath.Join(c.dir, id, "layer"))
}

// TestV1Migration pulls the original tests' image chain from a v1 registry
// into an OCI layout, which skopeo and umoci must accept with diff_ids that
// are the sha256 of the gunzipped layers, then migrates it into a v2
// registry (Debian's docker-registry) and pulls it back by digest.
func TestV1Migration(t *testing.T) {
	skopeo := testutil.NeedBinary(t, "skopeo", "apt-get install skopeo")
	umoci := testutil.NeedBinary(t, "umoci", "apt-get install umoci")
	v2 := testutil.DockerRegistry(t)

	s, err := server.NewV1(t.TempDir(), server.WithV1BcryptCost(bcrypt.MinCost),
		server.WithV1Account(server.V1Account{Username: "foo42", Password: "pa55word", Email: "f@example.com", Active: true}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	v1 := u.Host
	data := filepath.Join("..", "legacy", "testdata", "v1")
	c, err := legacy.NewClient(v1, legacy.WithKeychain(auth.Static(auth.Credential{Username: "foo42", Password: "pa55word"})))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Push(context.Background(), "foo42/bar", "latest", testdataChain{data}); err != nil {
		t.Fatalf("seeding the v1 registry with the testdata chain: %v", err)
	}

	layout := filepath.Join(t.TempDir(), "bar")
	if out, stderr, code := runHoist(t, nil, "pull", v1+"/foo42/bar:latest", "oci:"+layout+":latest"); code != 0 {
		t.Fatalf("hoist pull from v1: %d\n%s%s", code, out, stderr)
	}
	out, err := exec.Command(skopeo, "inspect", "oci:"+layout+":latest").CombinedOutput()
	if err != nil {
		t.Fatalf("skopeo inspect: %v\n%s", err, out)
	}
	var insp struct{ Layers []string }
	json.Unmarshal(out, &insp)
	if len(insp.Layers) != 2 {
		t.Fatalf("skopeo sees %d layers: %s", len(insp.Layers), out)
	}
	if out, err := exec.Command(umoci, "stat", "--image", layout+":latest").CombinedOutput(); err != nil {
		t.Fatalf("umoci stat: %v\n%s", err, out)
	}

	// diff_ids are sha256 of the gunzipped testdata layers, base first.
	cfgOut, _, code := runHoist(t, nil, "inspect", "--json", "oci:"+layout+":latest")
	if code != 0 {
		t.Fatal("inspect")
	}
	var ins struct {
		Image struct{ Config struct{ Digest string } }
	}
	json.Unmarshal([]byte(cfgOut), &ins)
	cfgBytes, err := os.ReadFile(filepath.Join(layout, "blobs", "sha256", strings.TrimPrefix(ins.Image.Config.Digest, "sha256:")))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
		History []json.RawMessage `json:"history"`
	}
	json.Unmarshal(cfgBytes, &cfg)
	for i, id := range (testdataChain{}).IDs() {
		gz, _ := os.ReadFile(filepath.Join(data, id, "layer"))
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		io.Copy(h, zr)
		want := "sha256:" + hex.EncodeToString(h.Sum(nil))
		if i >= len(cfg.RootFS.DiffIDs) || cfg.RootFS.DiffIDs[i] != want {
			t.Fatalf("diff_ids %v; layer %d should be %s", cfg.RootFS.DiffIDs, i, want)
		}
	}
	if len(cfg.History) != 2 {
		t.Errorf("history has %d entries, want one per v1 image", len(cfg.History))
	}

	// Migrate into v2, then pull back by digest.
	out2, stderr, code := runHoist(t, nil, "-q", "copy", v1+"/foo42/bar:latest", v2+"/migrated/bar:latest")
	if code != 0 {
		t.Fatalf("migrate: %d %s", code, stderr)
	}
	d := strings.TrimSpace(out2)
	back := filepath.Join(t.TempDir(), "back")
	if _, stderr, code := runHoist(t, nil, "pull", v2+"/migrated/bar@"+d, "oci:"+back+":migrated"); code != 0 {
		t.Fatalf("pull by digest: %d %s", code, stderr)
	}
	out, err = exec.Command(skopeo, "inspect", "oci:"+back+":migrated").CombinedOutput()
	var got struct{ Digest string }
	if err != nil || json.Unmarshal(out, &got) != nil || got.Digest != d {
		t.Fatalf("skopeo inspect of the pulled-back image: %v, digest %q want %q\n%s", err, got.Digest, d, out)
	}
}
