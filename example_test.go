package hoist_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"testing"

	"github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/copy"
	"github.com/hoist-dev/hoist/registrytest"
	"github.com/hoist-dev/hoist/store"
)

// The examples run against two in-process registries that each accept only
// their own user: source (alice) holds team/app:v1, team/app:v2 and the
// two-platform team/multi:v1; target (bob) starts empty. Both logins are
// stored in a docker config directory that $DOCKER_CONFIG names, where
// `docker login` would have put them.
var source, target *registrytest.Registry

func TestMain(m *testing.M) {
	os.Exit(runExamples(m))
}

func runExamples(m *testing.M) int {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "hoist-examples-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	os.Setenv("DOCKER_CONFIG", filepath.Join(tmp, "docker"))
	os.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "cache"))
	if source, err = registrytest.Start(registrytest.WithUser("alice", "alice-secret")); err != nil {
		log.Fatal(err)
	}
	defer source.Close()
	if target, err = registrytest.Start(registrytest.WithUser("bob", "bob-secret")); err != nil {
		log.Fatal(err)
	}
	defer target.Close()
	for name, platforms := range map[string][]string{"team/app:v1": nil, "team/app:v2": nil, "team/multi:v1": {"linux/amd64", "linux/arm64"}} {
		if _, err := source.AddImage(ctx, name, platforms...); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := hoist.Login(ctx, source.Host(), "alice", "alice-secret"); err != nil {
		log.Fatal(err)
	}
	if _, err := hoist.Login(ctx, target.Host(), "bob", "bob-secret"); err != nil {
		log.Fatal(err)
	}
	return m.Run()
}

// Copy an image between two registries that want different credentials,
// then list the tags of the copy. Each registry gets the credentials
// docker's config.json holds for it.
func Example() {
	ctx := context.Background()
	src, dst := source.Host()+"/team/app:v1", target.Host()+"/mirror/app:v1"
	if _, err := hoist.Copy(ctx, src, dst); err != nil {
		log.Fatal(err)
	}
	tags, err := hoist.Tags(ctx, target.Host()+"/mirror/app")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tags)
	// Output: [v1]
}

// Copy one platform of a multi-platform image: the copy is that platform's
// image manifest, not an index.
func ExampleCopy_platform() {
	ctx := context.Background()
	res, err := hoist.Copy(ctx, source.Host()+"/team/multi:v1", target.Host()+"/arm/app:v1",
		hoist.WithPlatforms("linux/arm64"), hoist.WithFormat(copy.FormatOCI))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Images[0].Descriptor.MediaType)
	// Output: application/vnd.oci.image.manifest.v1+json
}

// Copy every tag of a repository; blobs shared between tags move once.
func ExampleCopy_allTags() {
	ctx := context.Background()
	res, err := hoist.Copy(ctx, source.Host()+"/team/app", target.Host()+"/all/app", hoist.WithAllTags())
	if err != nil {
		log.Fatal(err)
	}
	for _, img := range res.Images {
		fmt.Println(img.Tag, img.Blobs)
	}
	// Output:
	// v1 2
	// v2 2
}

// Pull an image into an OCI layout, then read the layout by its path.
func ExamplePull() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pull-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if _, err := hoist.Pull(ctx, source.Host()+"/team/app:v1", dir+"/app:v1"); err != nil {
		log.Fatal(err)
	}
	tags, err := hoist.Tags(ctx, dir+"/app")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tags)
	// Output: [v1]
}

// Push a docker archive (docker save's format) to a registry.
func ExamplePush() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "push-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if _, err := hoist.Pull(ctx, source.Host()+"/team/app:v2", dir+"/app.tar"); err != nil {
		log.Fatal(err)
	}
	res, err := hoist.Push(ctx, dir+"/app.tar", target.Host()+"/pushed/app:v2")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Destination.Ref.Tag, res.Images[0].Blobs)
	// Output: v2 2
}

// List the tags of a repository, at most two.
func ExampleTags() {
	tags, err := hoist.Tags(context.Background(), source.Host()+"/team/app", hoist.WithLimit(2))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tags)
	// Output: [v1 v2]
}

// Resolve a tag to the digest of its manifest (one HEAD request).
func ExampleDigest() {
	d, err := hoist.Digest(context.Background(), source.Host()+"/team/app:v1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Algorithm(), len(d.Encoded()))
	// Output: sha256 64
}

// Read a manifest's exact bytes: their sha256 is the manifest's digest.
func ExampleManifest() {
	ctx := context.Background()
	ref := source.Host() + "/team/multi:v1"
	raw, err := hoist.Manifest(ctx, ref, hoist.WithPlatforms("linux/arm64"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(raw) > 0)
	// Output: true
}

// Describe an image: its platforms, and with WithPlatforms the image of
// one of them.
func ExampleInspect() {
	ins, err := hoist.Inspect(context.Background(), source.Host()+"/team/multi:v1", hoist.WithPlatforms("linux/arm64"))
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range ins.Platforms {
		fmt.Println(p.Platform)
	}
	fmt.Println(ins.Image.Platform, len(ins.Image.Layers), ins.Image.Cmd)
	// Output:
	// linux/amd64
	// linux/arm64
	// linux/arm64 1 [cat /hello.txt]
}

// Delete a manifest; every tag naming it goes with it.
func ExampleDelete() {
	ctx := context.Background()
	ref := target.Host() + "/scratch/app:v1"
	if _, err := hoist.Copy(ctx, source.Host()+"/team/app:v1", ref); err != nil {
		log.Fatal(err)
	}
	deleted, err := hoist.Delete(ctx, ref)
	if err != nil {
		log.Fatal(err)
	}
	_, err = hoist.Digest(ctx, ref)
	fmt.Println(deleted.Deleted.Repository, deleted.Tags, err != nil)
	// Output: scratch/app [v1] true
}

// Log in: the credentials are checked against the registry and stored
// only if it accepts them (here in a config directory of its own).
func ExampleLogin() {
	dir, err := os.MkdirTemp("", "login-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	if _, err := hoist.Login(ctx, source.Host(), "alice", "wrong", hoist.WithConfigDir(dir)); err != nil {
		fmt.Println("refused")
	}
	status, err := hoist.Login(ctx, source.Host(), "alice", "alice-secret", hoist.WithConfigDir(dir))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(status)
	// Output:
	// refused
	// Login Succeeded
}

// A program doing several jobs keeps one Session: its connections, tokens
// and what each registry speaks are shared.
func ExampleNewSession() {
	ctx := context.Background()
	s, err := hoist.NewSession(hoist.WithoutBlobCache())
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	for _, tag := range []string{"v1", "v2"} {
		if _, err := s.Copy(ctx, source.Host()+"/team/app:"+tag, target.Host()+"/session/app:"+tag); err != nil {
			log.Fatal(err)
		}
	}
	tags, err := s.Tags(ctx, target.Host()+"/session/app")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tags)
	// Output: [v1 v2]
}

// Open any location as a store, for what the one-call jobs do not cover.
func ExampleSession_OpenReader() {
	ctx := context.Background()
	s, err := hoist.NewSession()
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	st, err := s.OpenReader(ctx, "docker://"+source.Host()+"/team/app:v2")
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	desc, err := st.Reader.Resolve(ctx, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Location.Kind, desc.MediaType)
	// Output: docker application/vnd.oci.image.manifest.v1+json
}

// Open a registry as a store namespace: its catalog, and its
// repositories as stores with the whole contract (a blob's Stat by digest
// here).
func ExampleSession_Registry() {
	ctx := context.Background()
	s, err := hoist.NewSession()
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	ns, err := s.Registry(source.Host())
	if err != nil {
		log.Fatal(err)
	}
	repos, err := ns.Repositories(ctx, store.Page{N: 1})
	if err != nil {
		log.Fatal(err)
	}
	repo, err := ns.Repository(ctx, repos[0])
	if err != nil {
		log.Fatal(err)
	}
	desc, err := repo.Resolve(ctx, "v1")
	if err != nil {
		log.Fatal(err)
	}
	m, err := hoist.FetchManifest(ctx, repo, desc)
	if err != nil {
		log.Fatal(err)
	}
	config := m.Image.Config
	st, err := repo.Stat(ctx, config.Digest)
	fmt.Println(repos, st.Size == config.Size, err)
	// Output: [team/app] true <nil>
}
