package hoist_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/registrytest"
	"github.com/hoist-dev/hoist/store"
)

// TestTwoRegistriesTwoCredentials: one session copies between registries
// that accept only their own user, with the credentials stored for each.
func TestTwoRegistriesTwoCredentials(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	ctx := context.Background()
	src := testutil.NewRegistry(t, testutil.WithHtpasswd(map[string]string{"alice": "a-secret"}))
	dst := testutil.NewRegistry(t, testutil.WithHtpasswd(map[string]string{"bob": "b-secret"}))
	s, err := hoist.NewSession(hoist.WithConfigDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, l := range []struct{ host, user, pass string }{{src.Host, "alice", "a-secret"}, {dst.Host, "bob", "b-secret"}} {
		if _, err := s.Login(ctx, l.host, l.user, l.pass); err != nil {
			t.Fatalf("login %s: %v", l.host, err)
		}
	}
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "session", Platforms: []string{"linux/amd64", "linux/arm64"}})
	layout := filepath.Join(t.TempDir(), "src")
	writeLayout(t, s, layout, "v1", img)
	if _, err := s.Push(ctx, layout, src.Host+"/team/app:v1"); err != nil {
		t.Fatal(err)
	}

	res, err := s.Copy(ctx, src.Host+"/team/app:v1", dst.Host+"/mirror/app:v1", hoist.WithPlatforms("linux/arm64"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 1 || res.Images[0].Descriptor.Digest != img.Manifests[1].Digest {
		t.Fatalf("copy of linux/arm64: %+v", res.Images)
	}
	tags, err := s.Tags(ctx, dst.Host+"/mirror/app")
	if err != nil || !reflect.DeepEqual(tags, []string{"v1"}) {
		t.Fatalf("tags: %v %v", tags, err)
	}
	d, err := s.Digest(ctx, dst.Host+"/mirror/app:v1")
	if err != nil || d != img.Manifests[1].Digest {
		t.Fatalf("digest: %s %v", d, err)
	}

	// Without credentials the target refuses: the session did use bob's.
	anon, err := hoist.NewSession(hoist.WithConfigDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.Tags(ctx, dst.Host+"/mirror/app"); err == nil {
		t.Fatal("an anonymous session listed the tags of a registry that wants bob")
	}
}

func TestPullDefaultsAndErrors(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	ctx := context.Background()
	reg := testutil.NewRegistry(t)
	s, err := hoist.NewSession(hoist.WithConfigDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "pull default"})
	layout := filepath.Join(t.TempDir(), "src")
	writeLayout(t, s, layout, "v1", img)
	if _, err := s.Push(ctx, "oci:"+layout+":v1", reg.Host+"/team/app:v2"); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	res, err := s.Pull(ctx, reg.Host+"/team/app:v2", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Destination.String(); got != "oci:./app:v2" {
		t.Fatalf("default pull destination %q, want oci:./app:v2", got)
	}
	if tags, err := s.Tags(ctx, "./app"); err != nil || !reflect.DeepEqual(tags, []string{"v2"}) {
		t.Fatalf("tags of the pulled layout: %v %v", tags, err)
	}
	res, err = s.Pull(ctx, reg.Host+"/team/app:v2", "app.tar")
	if err != nil || res.Destination.String() != "docker-archive:app.tar:"+reg.Host+"/team/app:v2" {
		t.Fatalf("pull to app.tar: %v %v", res, err)
	}

	if _, err := s.Pull(ctx, "oci:./app", "x"); !errors.Is(err, hoist.ErrNotRegistry) || !errors.Is(err, store.ErrInvalidLocation) {
		t.Errorf("pull from a layout: %v", err)
	}
	var oe *hoist.OptionError
	if _, err := s.Copy(ctx, "app.tar", "oci:./y", hoist.WithAllTags()); !errors.As(err, &oe) || oe.Option != "WithAllTags" {
		t.Errorf("all tags of an archive: %v", err)
	}
	if _, err := s.Tags(ctx, "./app", hoist.WithConfigDir("x")); !errors.As(err, &oe) || oe.Option != "WithConfigDir" {
		t.Errorf("a session option in a call: %v", err)
	}
	if _, err := s.Inspect(ctx, "./app:v2", hoist.WithPlatforms("not a platform")); !errors.As(err, &oe) || oe.Option != "WithPlatforms" {
		t.Errorf("a bad platform: %v", err)
	}
}

// writeLayout writes img into a new layout at dir, tagged tag, through
// the session's OpenWriter.
func writeLayout(t *testing.T, s *hoist.Session, dir, tag string, img *testutil.Image) {
	t.Helper()
	ctx := context.Background()
	st, err := s.OpenWriter(ctx, "oci:"+dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := testutil.CopyGraph(ctx, img, img.Root, st.Writer); err != nil {
		t.Fatal(err)
	}
	if err := st.Writer.Tag(ctx, img.Root, tag); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestBlobCatalogDelete(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.New(t)
	root, err := reg.AddImage(ctx, "team/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	s, err := hoist.NewSession(hoist.WithConfigDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	repos, err := s.Catalog(ctx, reg.Host())
	if err != nil || !reflect.DeepEqual(repos, []string{"team/app"}) {
		t.Fatalf("catalog: %v %v", repos, err)
	}
	raw, err := s.Manifest(ctx, reg.Host()+"/team/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Layers []struct{ Digest digest.Digest }
	}
	if err := json.Unmarshal(raw, &m); err != nil || len(m.Layers) != 1 {
		t.Fatalf("manifest: %s %v", raw, err)
	}
	rc, desc, err := s.Blob(ctx, reg.Host()+"/team/app@"+m.Layers[0].Digest.String())
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || digest.FromBytes(data) != m.Layers[0].Digest || desc.Size != int64(len(data)) {
		t.Fatalf("blob: %d bytes, %v", len(data), err)
	}
	if _, _, err := s.Blob(ctx, reg.Host()+"/team/app@"+digest.FromString("nothing").String()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a blob the registry lacks: %v", err)
	}
	if _, _, err := s.Blob(ctx, reg.Host()+"/team/app:v1"); !errors.Is(err, store.ErrInvalidLocation) {
		t.Errorf("a blob without a digest: %v", err)
	}
	if _, err := s.Catalog(ctx, reg.Host()+"/team"); !errors.Is(err, store.ErrInvalidLocation) {
		t.Errorf("a catalog of a repository: %v", err)
	}

	deleted, err := s.Delete(ctx, reg.Host()+"/team/app:v1")
	if err != nil || deleted.Deleted.Digest != root.Digest {
		t.Fatalf("delete: %v %v", deleted, err)
	}
	if _, err := s.Digest(ctx, reg.Host()+"/team/app:v1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the tag after delete: %v", err)
	}
	if _, err := s.Delete(ctx, "oci:"+t.TempDir()); !errors.Is(err, hoist.ErrNotRegistry) {
		t.Errorf("delete in a layout: %v", err)
	}
}
