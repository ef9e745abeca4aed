package hoist_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store"
)

// TestNewKind: a kind of location is one store.Kind and one Register
// call; every Session call then reads it.
func TestNewKind(t *testing.T) {
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "new kind", Platforms: []string{"linux/amd64", "linux/arm64"}})
	store.Register(&store.Kind{
		Name: "fixture", Prefix: "fixture:", Syntax: "fixture:NAME", Description: "a test fixture",
		Parse:  func(rest string) (store.Location, error) { return store.Location{Tag: rest}, nil },
		Format: func(l store.Location) string { return "fixture:" + l.Tag },
		OpenReader: func(context.Context, store.Env, store.Location) (store.Reader, error) {
			return img, nil
		},
	})
	ctx := context.Background()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	s, err := hoist.NewSession(hoist.WithConfigDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	dst := "oci:" + filepath.Join(t.TempDir(), "out") + ":v1"
	res, err := s.Copy(ctx, "fixture:img", dst, hoist.WithPlatforms("linux/arm64"))
	if err != nil || res.Images[0].Descriptor.Digest != img.Manifests[1].Digest || res.Source.String() != "fixture:img" {
		t.Fatalf("copy from the new kind: %+v %v", res, err)
	}
	if d, err := s.Digest(ctx, dst); err != nil || d != img.Manifests[1].Digest {
		t.Fatalf("digest of the copy: %s %v", d, err)
	}
	if _, err := s.Copy(ctx, dst, "fixture:back"); err == nil {
		t.Fatal("writing a kind without OpenWriter did not fail")
	}
}
