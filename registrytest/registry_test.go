package registrytest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"testing"

	"github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/registrytest"
)

// A registry for one test, with a user, holding a two-platform image.
func TestRegistryWithUser(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.New(t, registrytest.WithUser("ci", "s3cret"))
	root, err := reg.AddImage(ctx, "team/app:v1", "linux/amd64", "linux/arm64")
	if err != nil {
		t.Fatal(err)
	}
	again, err := reg.AddImage(ctx, "team/app:v1", "linux/amd64", "linux/arm64")
	if err != nil || again.Digest != root.Digest {
		t.Fatalf("the same image twice: %s then %s (%v)", root.Digest, again.Digest, err)
	}

	anon, err := hoist.NewSession(hoist.WithKeychain(auth.Static(auth.Credential{})))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.Digest(ctx, reg.Host()+"/team/app:v1"); !errors.Is(err, errdef.ErrUnauthorized) {
		t.Fatalf("anonymous read: %v, want unauthorized", err)
	}
	user, err := hoist.NewSession(hoist.WithKeychain(auth.Static(auth.Credential{Username: "ci", Password: "s3cret"})))
	if err != nil {
		t.Fatal(err)
	}
	ins, err := user.Inspect(ctx, reg.Host()+"/team/app:v1")
	if err != nil || ins.Digest != root.Digest.String() || len(ins.Platforms) != 2 {
		t.Fatalf("inspect with the user: %+v %v", ins, err)
	}
}

func ExampleStart() {
	reg, err := registrytest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer reg.Close()
	ctx := context.Background()
	if _, err := reg.AddImage(ctx, "team/app:v1"); err != nil {
		log.Fatal(err)
	}
	tags, err := hoist.Tags(ctx, reg.Host()+"/team/app")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tags)
	// Output: [v1]
}
