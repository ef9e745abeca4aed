package legacy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/server"
)

func TestPullTestdataChain(t *testing.T) {
	rec := &recorder{}
	_, ts := v1Server(t, rec.wrap, server.WithV1Standalone(false))
	chain := testChain(t)
	seed(t, ts.URL, "foo42/bar", "latest", chain)
	ctx := context.Background()

	c := newTestClient(t, hostOf(ts))
	rc, err := c.Pull(ctx, "foo42/bar", "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rc.IDs(), []string{baseID, childID}; !slices.Equal(got, want) {
		t.Fatalf("IDs = %v, want base first %v", got, want)
	}
	for _, img := range chain {
		j, err := rc.JSON(ctx, img.id)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(j, img.json) {
			t.Errorf("JSON of %s differs:\n%s", img.id, j)
		}
		meta, _ := rc.Image(ctx, img.id)
		if meta.Size != int64(len(img.layer)) || meta.Checksum != img.payload {
			t.Errorf("image %s: size %d checksum %q, want %d %q", img.id, meta.Size, meta.Checksum, len(img.layer), img.payload)
		}
		l, err := rc.Layer(ctx, img.id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(l)
		l.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, img.layer) {
			t.Errorf("layer of %s differs", img.id)
		}
	}
	if n := len(rec.find(http.MethodGet, "/json")); n != 2 {
		t.Errorf("%d image JSON requests, want one per image (cached)", n)
	}

	// Index calls ask for a token; registry calls send it, and the session
	// cookie the registry set comes back.
	idx := rec.find(http.MethodGet, "/repositories/foo42/bar/images")
	if len(idx) != 1 || idx[0].token != "true" {
		t.Fatalf("index call %+v, want one with X-Docker-Token: true", idx)
	}
	sawCookie := false
	for _, r := range rec.all() {
		if r.method == http.MethodGet && (strings.HasPrefix(r.path, "/v1/images/") || strings.HasSuffix(r.path, "/tags")) {
			if !strings.HasPrefix(r.auth, "Token signature=") {
				t.Errorf("%s %s: Authorization %q, want the index's token", r.method, r.path, r.auth)
			}
			sawCookie = sawCookie || strings.Contains(r.cookie, "session=")
		}
	}
	if !sawCookie {
		t.Error("the registry's session cookie was never sent back")
	}
}

func TestPullMissing(t *testing.T) {
	_, ts := v1Server(t, nil)
	seed(t, ts.URL, "foo42/bar", "latest", testChain(t))
	c := newTestClient(t, hostOf(ts))
	ctx := context.Background()
	if _, err := c.Pull(ctx, "foo42/nothere", "latest"); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("missing repository: err = %v, want ErrNotFound", err)
	}
	if _, err := c.Pull(ctx, "foo42/bar", "v9"); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("missing tag: err = %v, want ErrNotFound", err)
	}
}

func TestPullLoginRequired(t *testing.T) {
	acct := server.V1Account{Username: "foo42", Password: "s3cret!", Email: "foo42@example.com", Active: true}
	_, ts := v1Server(t, nil, server.WithV1ReadAuth(true), server.WithV1Account(acct))
	ctx := context.Background()
	// Seeding needs accounts off; push with the client instead.
	push := newTestClient(t, hostOf(ts), WithKeychain(staticCred(acct)))
	if _, err := push.Push(ctx, "foo42/bar", "latest", sliceChain(testChain(t))); err != nil {
		t.Fatal(err)
	}
	_, err := newTestClient(t, hostOf(ts)).Pull(ctx, "foo42/bar", "latest")
	if !errors.Is(err, errcode.ErrUnauthorized) {
		t.Fatalf("anonymous pull: err = %v, want ErrUnauthorized", err)
	}
	rc, err := push.Pull(ctx, "foo42/bar", "latest")
	if err != nil {
		t.Fatal(err)
	}
	if len(rc.IDs()) != 2 {
		t.Errorf("IDs = %v", rc.IDs())
	}
}

func TestTagsAndLibraryPrefix(t *testing.T) {
	rec := &recorder{}
	_, ts := v1Server(t, rec.wrap)
	chain := testChain(t)
	seed(t, ts.URL, "library/busybox", "latest", chain)
	seed(t, ts.URL, "library/busybox", "old", chain[:1])
	c := newTestClient(t, hostOf(ts))
	ctx := context.Background()
	rd, err := c.RepositoryData(ctx, "busybox")
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.NewSession(ctx, rd)
	if err != nil {
		t.Fatal(err)
	}
	tags, err := s.Tags(ctx, "busybox")
	if err != nil {
		t.Fatal(err)
	}
	if len(tags) != 2 || tags["latest"] != childID || tags["old"] != baseID {
		t.Errorf("tags = %v", tags)
	}
	id, err := s.Tag(ctx, "busybox", "old")
	if err != nil || id != baseID {
		t.Errorf("Tag(old) = %q, %v; want %s", id, err, baseID)
	}
	if _, err := s.Tag(ctx, "busybox", "nope"); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("Tag(nope): err = %v, want ErrNotFound", err)
	}
	if len(rec.find(http.MethodGet, "/v1/repositories/library/busybox/tags")) != 1 ||
		len(rec.find(http.MethodGet, "/v1/repositories/library/busybox/tags/old")) != 1 {
		t.Errorf("tag requests did not use library/busybox: %+v", rec.all())
	}

	// Without a token (the token opens only images of its repository).
	anon, err := c.NewSession(ctx, &RepositoryData{Endpoints: []*url.URL{c.Endpoint()}})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{childID: true, strings.Repeat("0", 64): false} {
		got, err := anon.ImageExists(ctx, id)
		if err != nil || got != want {
			t.Errorf("ImageExists(%s) = %v, %v; want %v", id[:8], got, err, want)
		}
	}
	anc, err := s.Ancestry(ctx, childID)
	if err != nil || !slices.Equal(anc, []string{childID, baseID}) {
		t.Errorf("Ancestry = %v, %v", anc, err)
	}
}

// A layer damaged on the way fails its checksum at EOF instead of
// passing as the real thing.
func TestPullCorruptLayer(t *testing.T) {
	_, ts := v1Server(t, nil)
	seed(t, ts.URL, "foo42/bar", "latest", testChain(t))
	proxy := testutil.NewFaultProxy(t, ts.URL, testutil.Fault{
		Match:  testutil.MatchRequest(http.MethodGet, "/layer"),
		Action: testutil.CorruptResponseAt(40),
	})
	if _, err := readLayer(t, newTestClient(t, proxy.Host), childID); !errors.Is(err, errcode.ErrDigestMismatch) {
		t.Fatalf("err = %v, want ErrDigestMismatch", err)
	}
}
