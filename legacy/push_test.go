package legacy

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/hosts"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/legacy/tarsum"
	"github.com/hoist-dev/hoist/server"
	"github.com/hoist-dev/hoist/transport"
)

var foo42 = server.V1Account{Username: "foo42", Password: "s3cret!", Email: "foo42@example.com", Active: true}

// pullAll pulls name:tag and returns its images (JSON and layer bytes).
func pullAll(t *testing.T, c *Client, name, tag string) []testImage {
	t.Helper()
	ctx := context.Background()
	rc, err := c.Pull(ctx, name, tag)
	if err != nil {
		t.Fatal(err)
	}
	var out []testImage
	for _, id := range rc.IDs() {
		j, err := rc.JSON(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		l, err := rc.Layer(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(l)
		l.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, testImage{id: id, json: j, layer: b})
	}
	return out
}

func sameImages(t *testing.T, got, want []testImage) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d images, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].id != want[i].id || !bytes.Equal(got[i].json, want[i].json) || !bytes.Equal(got[i].layer, want[i].layer) {
			t.Errorf("image %d (%s) differs from what was pushed (%s)", i, got[i].id, want[i].id)
		}
	}
}

func TestPushNewChain(t *testing.T) {
	rec := &recorder{}
	_, ts := v1Server(t, rec.wrap, server.WithV1Account(foo42), server.WithV1Standalone(false))
	images := newChain(t,
		makeLayer(t, map[string]string{"etc/os-release": "ID=test\n"}, true),
		makeLayer(t, map[string]string{"app/run.sh": "#!/bin/sh\necho hi\n"}, false),
		makeLayer(t, map[string]string{"app/data": strings.Repeat("x", 100000)}, true),
	)
	ctx := context.Background()
	c := newTestClient(t, hostOf(ts), WithKeychain(staticCred(foo42)))
	src := sliceChain(images)
	res, err := c.Push(ctx, "foo42/app", "v1", src)
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range images {
		if src.opened[img.id] != 1 {
			t.Errorf("layer of %s read %d times, want once (checksums computed while it streams)", img.id, src.opened[img.id])
		}
	}
	if len(res.Registries) != 1 || len(res.Registries[0].Uploaded) != 3 || len(res.Registries[0].Skipped) != 0 {
		t.Fatalf("result %+v, want 3 images uploaded to one registry", res.Registries)
	}
	sameImages(t, pullAll(t, newTestClient(t, hostOf(ts)), "foo42/app", "v1"), images)

	// Parents first, each image json -> layer -> checksum, then the tag
	// and the close, which names the registry used.
	var order []string
	for _, r := range rec.all() {
		if r.method != http.MethodPut {
			continue
		}
		order = append(order, strings.TrimPrefix(r.path, "/v1/"))
		if strings.HasSuffix(r.path, "/layer") && (r.transferEncoding != "chunked" || r.contentLength != -1) {
			t.Errorf("layer PUT with Transfer-Encoding %q and length %d, want chunked", r.transferEncoding, r.contentLength)
		}
		if strings.HasPrefix(r.path, "/v1/images/") && !strings.HasPrefix(r.auth, "Token ") {
			t.Errorf("registry call %s with Authorization %q, want a token", r.path, r.auth)
		}
	}
	var want []string
	want = append(want, "repositories/foo42/app/")
	for _, img := range images {
		want = append(want, "images/"+img.id+"/json", "images/"+img.id+"/layer", "images/"+img.id+"/checksum")
	}
	want = append(want, "repositories/foo42/app/tags/v1", "repositories/foo42/app/images")
	if !slices.Equal(order, want) {
		t.Errorf("PUT order:\n%s\nwant\n%s", strings.Join(order, "\n"), strings.Join(want, "\n"))
	}
	closing := rec.find(http.MethodPut, "/repositories/foo42/app/images")
	// The endpoint keeps the index's scheme as written (https); the
	// transport fell back to http on loopback underneath.
	if len(closing) != 1 || !slices.Equal(closing[0].endpoints, []string{"https://" + hostOf(ts) + "/v1/"}) {
		t.Errorf("close sent X-Docker-Endpoints %+v, want the registry used", closing)
	}
}

func TestPushSkipsExistingImages(t *testing.T) {
	_, ts := v1Server(t, nil, server.WithV1Account(foo42))
	ctx := context.Background()
	c := newTestClient(t, hostOf(ts), WithKeychain(staticCred(foo42)))
	chain := testChain(t)
	if _, err := c.Push(ctx, "foo42/bar", "latest", sliceChain(chain)); err != nil {
		t.Fatal(err)
	}
	// The same chain under another tag: everything exists.
	res, err := c.Push(ctx, "foo42/bar", "again", sliceChain(chain))
	if err != nil {
		t.Fatal(err)
	}
	if rp := res.Registries[0]; len(rp.Uploaded) != 0 || !slices.Equal(rp.Skipped, []string{baseID, childID}) {
		t.Errorf("second push: uploaded %v skipped %v, want both skipped", rp.Uploaded, rp.Skipped)
	}
	// A new image on top of the existing base: only it goes up.
	top := newChain(t, makeLayer(t, map[string]string{"new": "file"}, true))[0]
	top.json = []byte(`{"id":"` + top.id + `","parent":"` + baseID + `","created":"2014-06-01T00:00:00Z"}`)
	res, err = c.Push(ctx, "foo42/other", "latest", sliceChain([]testImage{chain[0], top}))
	if err != nil {
		t.Fatal(err)
	}
	if rp := res.Registries[0]; !slices.Equal(rp.Uploaded, []string{top.id}) || !slices.Equal(rp.Skipped, []string{baseID}) {
		t.Errorf("push on an existing base: uploaded %v skipped %v", rp.Uploaded, rp.Skipped)
	}
	got := pullAll(t, c, "foo42/other", "latest")
	sameImages(t, got, []testImage{chain[0], top})
}

func TestPushChecksumRejected(t *testing.T) {
	_, ts := v1Server(t, nil, server.WithV1Account(foo42))
	ctx := context.Background()
	c := newTestClient(t, hostOf(ts), WithKeychain(staticCred(foo42)))
	img := testChain(t)[0]
	rd, err := c.Announce(ctx, "foo42/bar", []ImageEntry{{ID: img.id, Tag: "latest"}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.NewSession(ctx, rd)
	if err != nil {
		t.Fatal(err)
	}
	ep := s.Endpoints()[0]
	if err := s.PutImageJSON(ctx, ep, img.id, img.json); err != nil {
		t.Fatal(err)
	}
	sums, err := s.PutLayer(ctx, ep, img.id, img.json, bytes.NewReader(img.layer))
	if err != nil {
		t.Fatal(err)
	}
	if sums.Payload != img.payload || sums.Size != int64(len(img.layer)) {
		t.Errorf("sums = %+v, want payload %s (the testdata's) and size %d", sums, img.payload, len(img.layer))
	}
	if want, _ := tarsum.FromReader(bytes.NewReader(img.layer), img.json); sums.TarSum != want {
		t.Errorf("TarSum %s, want %s", sums.TarSum, want)
	}
	flip := func(s string) string { return s[:len(s)-1] + string("01"[(s[len(s)-1]-'0'+1)%2]) }
	for name, bad := range map[string]Checksums{
		"tarsum":  {TarSum: flip(sums.TarSum), Payload: sums.Payload},
		"payload": {TarSum: sums.TarSum, Payload: "sha256:" + strings.Repeat("0", 64)},
	} {
		err := s.PutChecksum(ctx, ep, img.id, bad)
		if !errors.Is(err, errcode.ErrDigestMismatch) || !strings.Contains(err.Error(), "Wrong checksum") {
			t.Errorf("bad %s: err = %v, want the registry's 400 Wrong checksum as ErrDigestMismatch", name, err)
		}
		if ok, _ := s.ImageExists(ctx, img.id); ok {
			t.Fatalf("bad %s: the image became visible", name)
		}
	}
	if err := s.PutChecksum(ctx, ep, img.id, sums); err != nil {
		t.Fatalf("the right checksums: %v", err)
	}
	if err := s.PutImageJSON(ctx, ep, img.id, img.json); !errors.Is(err, ErrImageExists) {
		t.Errorf("PUT json of a complete image: err = %v, want ErrImageExists", err)
	}
}

func TestPushAnnounceRedirect(t *testing.T) {
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusMovedPermanently} {
		rec := &recorder{}
		_, ts := v1Server(t, rec.wrap, server.WithV1Account(foo42), server.WithV1AnnounceRedirect(status))
		c := newTestClient(t, hostOf(ts), WithKeychain(staticCred(foo42)))
		chain := testChain(t)
		if _, err := c.Push(context.Background(), "foo42/bar", "latest", sliceChain(chain)); err != nil {
			t.Fatalf("announce answered %d: %v", status, err)
		}
		re := rec.find(http.MethodPut, "/_redirected/repositories/foo42/bar/")
		if len(re) != 1 || !strings.HasPrefix(re[0].auth, "Basic ") || re[0].contentLength <= 2 {
			t.Errorf("%d: redirected announcements %+v, want one PUT with the body and the credentials", status, re)
		}
		sameImages(t, pullAll(t, c, "foo42/bar", "latest"), chain)
	}
}

func TestPushUnauthorizedOverPlainHTTP(t *testing.T) {
	_, ts := v1Server(t, nil, server.WithV1Account(foo42))
	ctx := context.Background()
	c := newTestClient(t, hostOf(ts))
	img := testChain(t)[0]
	s, err := c.NewSession(ctx, &RepositoryData{Endpoints: []*url.URL{c.Endpoint()}})
	if err != nil {
		t.Fatal(err)
	}
	err = s.PutImageJSON(ctx, s.Endpoints()[0], img.id, img.json)
	if !errors.Is(err, errcode.ErrUnauthorized) || !strings.Contains(err.Error(), "plain http") {
		t.Fatalf("err = %v, want a 401 explained as credentials not sent over plain http", err)
	}
	if _, err := c.Push(ctx, "foo42/bar", "latest", sliceChain(testChain(t))); !errors.Is(err, errcode.ErrUnauthorized) {
		t.Fatalf("anonymous push: err = %v, want ErrUnauthorized", err)
	}
}

// An announcement redirected to another origin goes there without the
// credentials; one redirected from https to http is refused.
func TestAnnounceRedirectToOtherOrigin(t *testing.T) {
	other := &recorder{}
	elsewhere := httptest.NewServer(other.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Docker-Token", "signature=x")
		w.Header().Set("X-Docker-Endpoints", r.Host)
		w.WriteHeader(http.StatusOK)
	})))
	t.Cleanup(elsewhere.Close)
	_, ts := v1Server(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && r.URL.Path == "/v1/repositories/foo42/bar/" {
				http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusFound)
				return
			}
			h.ServeHTTP(w, r)
		})
	}, server.WithV1Account(foo42))
	c := newTestClient(t, hostOf(ts), WithKeychain(staticCred(foo42)))
	rd, err := c.Announce(context.Background(), "foo42/bar", []ImageEntry{{ID: baseID}})
	if err != nil {
		t.Fatal(err)
	}
	got := other.find(http.MethodPut, "/v1/repositories/foo42/bar/")
	if len(got) != 1 || got[0].auth != "" || got[0].contentLength <= 2 {
		t.Fatalf("the other origin got %+v, want the body without credentials", got)
	}
	if len(rd.Endpoints) != 1 || rd.Endpoints[0].Host != hostOf(elsewhere) {
		t.Errorf("endpoints %v", rd.Endpoints)
	}

	// From https to http: refused.
	ca := testutil.NewCA(t, "test CA")
	tlsIndex := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	tlsIndex.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server(t).TLS}}
	tlsIndex.StartTLS()
	t.Cleanup(tlsIndex.Close)
	certsDir := t.TempDir()
	ca.WriteCA(t, filepath.Join(certsDir, hostOf(tlsIndex)), "ca.crt")
	rt := transport.New(transport.WithHosts(&hosts.Config{CertsDirs: []string{certsDir}}))
	c2, _ := NewClient(hostOf(tlsIndex), WithTransport(rt), WithKeychain(staticCred(foo42)))
	before := len(other.all())
	if _, err := c2.Announce(context.Background(), "foo42/bar", nil); !errors.Is(err, transport.ErrInsecureRedirect) {
		t.Fatalf("https to http: err = %v, want ErrInsecureRedirect", err)
	}
	if len(other.all()) != before {
		t.Error("the announcement went to plain http")
	}
}
