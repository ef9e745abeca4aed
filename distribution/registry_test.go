package distribution

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/internal/testutil"
)

func TestPushPullImage(t *testing.T) {
	r, srv := repo(t, "team/app")
	ctx := context.Background()
	img := newImage(t, nil, 1<<20, 3000, 0)
	img.push(t, r, "v1")

	m, err := r.Manifest(ctx, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Raw, img.manifest) {
		t.Fatal("pulled manifest bytes differ from the pushed ones")
	}
	if m.Descriptor.Digest != img.desc.Digest || m.Kind != content.KindImage || len(m.Image.Layers) != 3 {
		t.Fatalf("descriptor %+v kind %v", m.Descriptor, m.Kind)
	}
	byDigest, err := r.Manifest(ctx, img.desc.Digest.String())
	if err != nil || !bytes.Equal(byDigest.Raw, img.manifest) {
		t.Fatalf("by digest: %v", err)
	}
	head, err := r.ManifestHead(ctx, "v1")
	if err != nil || head.Digest != img.desc.Digest || head.Size != img.desc.Size || head.MediaType != content.MediaTypeOCIManifest {
		t.Fatalf("head %+v %v", head, err)
	}
	for i, l := range m.Image.Layers {
		if got := readBlob(t, r, l); !bytes.Equal(got, img.layers[i]) {
			t.Fatalf("layer %d differs", i)
		}
		bh, err := r.BlobHead(ctx, l.Digest)
		if err != nil || bh.Size != l.Size {
			t.Fatalf("blob head %+v %v", bh, err)
		}
	}
	var buf bytes.Buffer
	if n, err := r.CopyBlob(ctx, m.Image.Config, &buf); err != nil || n != m.Image.Config.Size || !bytes.Equal(buf.Bytes(), img.config) {
		t.Fatalf("config: %d %v", n, err)
	}

	// The registry holds exactly our bytes too.
	if code, b := rawGet(t, srv.URL+"/v2/team/app/manifests/v1", content.MediaTypeOCIManifest); code != 200 || !bytes.Equal(b, img.manifest) {
		t.Fatalf("registry has %d %q", code, b)
	}

	_, err = r.Manifest(ctx, "nope")
	if !errors.Is(err, errcode.ErrNotFound) {
		t.Fatalf("missing tag: %v", err)
	}
	var ee *errcode.Error
	if !errors.As(err, &ee) || !ee.HasCode(errcode.CodeManifestUnknown) || ee.Method != "GET" {
		t.Fatalf("missing tag error: %#v", err)
	}
	if _, err := r.BlobHead(ctx, content.NewDescriptor("", []byte("absent")).Digest); !errors.Is(err, errcode.ErrNotFound) {
		t.Fatalf("missing blob: %v", err)
	}
}

func TestIndexThreePlatforms(t *testing.T) {
	r, _ := repo(t, "multi")
	ctx := context.Background()
	platforms := []ocispec.Platform{
		{OS: "linux", Architecture: "amd64"},
		{OS: "linux", Architecture: "arm64", Variant: "v8"},
		{OS: "linux", Architecture: "arm", Variant: "v7"},
	}
	ix := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: content.MediaTypeOCIIndex}
	imgs := map[string]*image{}
	for i := range platforms {
		p := platforms[i]
		img := newImage(t, &p, 2000+i)
		img.push(t, r, "")
		ix.Manifests = append(ix.Manifests, img.desc)
		imgs[img.desc.Digest.String()] = img
	}
	raw := mustJSON(t, ix)
	desc, err := r.PutManifest(ctx, "latest", "", raw)
	if err != nil {
		t.Fatal(err)
	}
	if desc.MediaType != content.MediaTypeOCIIndex || desc.Size != int64(len(raw)) {
		t.Fatalf("index descriptor %+v", desc)
	}

	m, err := r.Manifest(ctx, "latest")
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != content.KindIndex || !bytes.Equal(m.Raw, raw) || len(m.Index.Manifests) != 3 {
		t.Fatalf("pulled index kind %v, %d entries", m.Kind, len(m.Index.Manifests))
	}
	for _, want := range []string{"linux/amd64", "linux/arm64", "linux/arm/v7"} {
		t.Run(want, func(t *testing.T) {
			p, _ := content.ParsePlatform(want)
			d, ok := content.SelectPlatform(m.Index, p)
			if !ok {
				t.Fatal("no entry")
			}
			child, err := r.Manifest(ctx, d.Digest.String())
			if err != nil {
				t.Fatal(err)
			}
			img := imgs[d.Digest.String()]
			if got := readBlob(t, r, child.Image.Layers[0]); !bytes.Equal(got, img.layers[0]) {
				t.Fatal("layer differs")
			}
			kids := content.Children(m)
			if !slices.ContainsFunc(kids, func(c content.Child) bool { return c.Descriptor.Digest == d.Digest && c.Role == content.RoleManifest }) {
				t.Fatal("index children lack the entry")
			}
		})
	}
}

func TestChunkedUpload(t *testing.T) {
	var patches lines
	srv := testutil.NewRegistry(t, testutil.WithMiddleware(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPatch {
				patches.add(fmt.Sprintf("%s/%d", r.Header.Get("Content-Range"), r.ContentLength))
			}
			h.ServeHTTP(w, r)
		})
	}))
	r := mustRepo(t, client(t, srv.Host, WithMaxChunkSize(64<<10)), "chunky")
	blob := randomBytes(t, 200<<10+17)
	desc := content.NewDescriptor("application/octet-stream", blob)
	if err := r.PushBlob(context.Background(), desc, bytes.NewReader(blob)); err != nil {
		t.Fatal(err)
	}
	want := []string{"0-65535/65536", "65536-131071/65536", "131072-196607/65536", "196608-204816/8209"}
	if got := patches.get(); !slices.Equal(got, want) {
		t.Fatalf("PATCH requests %v, want %v", got, want)
	}
	if got := readBlob(t, r, desc); !bytes.Equal(got, blob) {
		t.Fatal("blob differs")
	}
}

func TestChunkMinLength(t *testing.T) {
	var patches lines
	srv := testutil.NewRegistry(t, testutil.WithMiddleware(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.Method {
			case http.MethodPatch:
				patches.add(r.Header.Get("Content-Range"))
			case http.MethodPost:
				w.Header().Set("OCI-Chunk-Min-Length", "100000")
			}
			h.ServeHTTP(w, r)
		})
	}))
	r := mustRepo(t, client(t, srv.Host, WithMaxChunkSize(30000)), "min")
	blob := randomBytes(t, 250000)
	desc := content.NewDescriptor("", blob)
	if err := r.PushBlob(context.Background(), desc, bytes.NewReader(blob)); err != nil {
		t.Fatal(err)
	}
	if got, want := patches.get(), []string{"0-99999", "100000-199999", "200000-249999"}; !slices.Equal(got, want) {
		t.Fatalf("PATCH ranges %v, want %v (the registry's minimum wins)", got, want)
	}
}

func TestManualUploadResume(t *testing.T) {
	r, _ := repo(t, "manual")
	ctx := context.Background()
	blob := randomBytes(t, 30000)
	desc := content.NewDescriptor("", blob)
	u, err := r.StartUpload(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.WriteChunk(ctx, bytes.NewReader(blob[:12345]), 12345); err != nil {
		t.Fatal(err)
	}
	// A later process picks the session up from its saved location.
	u2, err := r.ResumeUpload(ctx, u.Location())
	if err != nil {
		t.Fatal(err)
	}
	if u2.Offset() != 12345 {
		t.Fatalf("resumed at %d, want 12345", u2.Offset())
	}
	if err := u2.WriteChunk(ctx, bytes.NewReader(blob[u2.Offset():]), int64(len(blob))-u2.Offset()); err != nil {
		t.Fatal(err)
	}
	if err := u2.Commit(ctx, desc); err != nil {
		t.Fatal(err)
	}
	if got := readBlob(t, r, desc); !bytes.Equal(got, blob) {
		t.Fatal("blob differs")
	}
	// A cancelled session is gone.
	u3, _ := r.StartUpload(ctx)
	if err := u3.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ResumeUpload(ctx, u3.Location()); !errors.Is(err, errcode.ErrNotFound) {
		t.Fatalf("resume of a cancelled upload: %v", err)
	}
}

func TestMount(t *testing.T) {
	srv := testutil.NewRegistry(t)
	reg := client(t, srv.Host)
	ctx := context.Background()
	src, dst := mustRepo(t, reg, "src/app"), mustRepo(t, reg, "dst/app")
	blob := randomBytes(t, 5000)
	desc := content.NewDescriptor("", blob)
	if err := src.PushBlob(ctx, desc, bytes.NewReader(blob)); err != nil {
		t.Fatal(err)
	}
	// Nothing to read: a mount must not touch the source.
	mounted, err := dst.Mount(ctx, desc, "src/app", failingReader{t})
	if err != nil || !mounted {
		t.Fatalf("mount: %v %v", mounted, err)
	}
	if got := readBlob(t, dst, desc); !bytes.Equal(got, blob) {
		t.Fatal("mounted blob differs")
	}

	t.Run("202 falls back to an upload", func(t *testing.T) {
		other := randomBytes(t, 3000)
		od := content.NewDescriptor("", other)
		mounted, err := dst.Mount(ctx, od, "src/app", bytes.NewReader(other))
		if err != nil || mounted {
			t.Fatalf("mount of a blob src lacks: %v %v", mounted, err)
		}
		if got := readBlob(t, dst, od); !bytes.Equal(got, other) {
			t.Fatal("uploaded blob differs")
		}
	})
	t.Run("202 without a source leaves it to the caller", func(t *testing.T) {
		od := content.NewDescriptor("", []byte("never pushed"))
		mounted, err := dst.Mount(ctx, od, "src/app", nil)
		if err != nil || mounted {
			t.Fatalf("%v %v", mounted, err)
		}
		if _, err := dst.BlobHead(ctx, od.Digest); !errors.Is(err, errcode.ErrNotFound) {
			t.Fatalf("blob exists after a failed mount: %v", err)
		}
	})
}

type failingReader struct{ t *testing.T }

func (f failingReader) Read([]byte) (int, error) {
	f.t.Error("the source was read although the mount succeeded")
	return 0, errors.New("must not be read")
}

func TestTagsPagination(t *testing.T) {
	var pages lines
	srv := testutil.NewRegistry(t, testutil.WithMiddleware(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/tags/list") || strings.HasSuffix(r.URL.Path, "/_catalog") {
				pages.add(r.URL.RawQuery)
			}
			h.ServeHTTP(w, r)
		})
	}))
	reg := client(t, srv.Host)
	r := mustRepo(t, reg, "tagged")
	img := newImage(t, nil, 10)
	img.push(t, r, "t0")
	ctx := context.Background()
	for i := 1; i < 7; i++ {
		if _, err := r.PutManifest(ctx, fmt.Sprintf("t%d", i), "", img.manifest); err != nil {
			t.Fatal(err)
		}
	}
	all := []string{"t0", "t1", "t2", "t3", "t4", "t5", "t6"}
	tests := []struct {
		name  string
		opts  ListOptions
		want  []string
		pages int
	}{
		{"all in pages of 2", ListOptions{PageSize: 2}, all, 4},
		{"one page", ListOptions{}, all, 1},
		{"limit 3", ListOptions{PageSize: 2, Limit: 3}, all[:3], 2},
		// distribution links to one more (empty) page after a full last one.
		{"after t4", ListOptions{PageSize: 2, Last: "t4"}, all[5:], 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages.reset()
			got, err := r.Tags(ctx, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if p := pages.get(); !slices.Equal(got, tt.want) || len(p) != tt.pages {
				t.Fatalf("tags %v in %d requests %q; want %v in %d", got, len(p), p, tt.want, tt.pages)
			}
		})
	}

	t.Run("catalog", func(t *testing.T) {
		for _, name := range []string{"a/one", "b/two", "c/three", "d/four"} {
			newImage(t, nil, 5).push(t, mustRepo(t, reg, name), "x")
		}
		pages.reset()
		got, err := reg.Catalog(ctx, ListOptions{PageSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"a/one", "b/two", "c/three", "d/four", "tagged"}
		if p := pages.get(); !slices.Equal(got, want) || len(p) != 3 {
			t.Fatalf("catalog %v in %d pages, want %v in 3", got, len(p), want)
		}
	})

	if _, err := mustRepo(t, reg, "absent").Tags(ctx, ListOptions{}); !errors.Is(err, errcode.ErrNotFound) {
		t.Fatalf("tags of a missing repository: %v", err)
	}
}

// A registry that pages by n and last only, without Link headers (as
// registries did before the spec defined Link), is still walked to the end.
func TestTagsWithoutLink(t *testing.T) {
	all := []string{"a", "b", "c", "d", "e"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		start := 0
		if last := q.Get("last"); last != "" {
			start = slices.Index(all, last) + 1
		}
		end := min(start+2, len(all))
		fmt.Fprintf(w, `{"name":"x","tags":%s}`, mustJSON(t, all[start:end]))
	}))
	defer srv.Close()
	r := mustRepo(t, client(t, strings.TrimPrefix(srv.URL, "http://")), "x")
	got, err := r.Tags(context.Background(), ListOptions{PageSize: 2})
	if err != nil || !slices.Equal(got, all) {
		t.Fatalf("%v %v", got, err)
	}
}

func TestDeleteManifest(t *testing.T) {
	r, _ := repo(t, "deleting")
	ctx := context.Background()
	img := newImage(t, nil, 100)
	img.push(t, r, "v1")
	if _, err := r.PutManifest(ctx, "v2", "", img.manifest); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteManifest(ctx, "v2"); err != nil {
		t.Fatalf("delete tag: %v", err)
	}
	if _, err := r.Manifest(ctx, "v2"); !errors.Is(err, errcode.ErrNotFound) {
		t.Fatalf("deleted tag: %v", err)
	}
	if _, err := r.Manifest(ctx, "v1"); err != nil {
		t.Fatalf("other tag after deleting a tag: %v", err)
	}
	if err := r.DeleteManifest(ctx, img.desc.Digest.String()); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"v1", img.desc.Digest.String()} {
		if _, err := r.Manifest(ctx, ref); !errors.Is(err, errcode.ErrNotFound) {
			t.Errorf("%s after delete: %v", ref, err)
		}
	}
	if err := r.DeleteManifest(ctx, img.desc.Digest.String()); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}

	t.Run("disabled", func(t *testing.T) {
		srv := testutil.NewRegistry(t, testutil.WithoutDelete())
		r := mustRepo(t, client(t, srv.Host), "nodelete")
		img.push(t, r, "v1")
		if err := r.DeleteManifest(ctx, img.desc.Digest.String()); !errors.Is(err, errcode.ErrUnsupported) {
			t.Fatalf("delete on a registry without delete: %v", err)
		}
	})
}

func TestPutManifestChecks(t *testing.T) {
	r, _ := repo(t, "checks")
	ctx := context.Background()
	img := newImage(t, nil, 10)
	img.push(t, r, "ok")
	tests := []struct {
		name, ref, mediaType string
		raw                  []byte
		is                   error
	}{
		{name: "media type differs from the body", ref: "a", mediaType: content.MediaTypeDockerManifest, raw: img.manifest},
		{name: "digest reference does not match", ref: content.NewDescriptor("", []byte("x")).Digest.String(), raw: img.manifest, is: errcode.ErrDigestMismatch},
		{name: "schema 1 is read-only", ref: "old", raw: []byte(`{"schemaVersion":1,"name":"checks","tag":"old","fsLayers":[{"blobSum":"` + img.desc.Digest.String() + `"}],"history":[{"v1Compatibility":"{}"}]}`), is: errcode.ErrUnsupported},
		{name: "not a manifest", ref: "junk", raw: []byte(`{"hello":1}`), is: errcode.ErrUnsupported},
		{name: "bad tag", ref: "a/b", raw: img.manifest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.PutManifest(ctx, tt.ref, tt.mediaType, tt.raw)
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Fatalf("err %v, want one matching %v", err, tt.is)
			}
		})
	}
	// Pushing by its own digest works and keeps the bytes.
	d, err := r.PutManifest(ctx, img.desc.Digest.String(), "", img.manifest)
	if err != nil || d.Digest != img.desc.Digest {
		t.Fatalf("%v %v", d, err)
	}
}

func TestPing(t *testing.T) {
	srv := testutil.NewRegistry(t)
	res, err := client(t, srv.Host).Ping(context.Background())
	if err != nil || !res.V2 || res.Status != 200 || res.APIVersion != "registry/2.0" {
		t.Fatalf("%+v %v", res, err)
	}
	authed := testutil.NewRegistry(t, testutil.WithHtpasswd(map[string]string{"u": "p"}))
	res, err = client(t, authed.Host).Ping(context.Background())
	if err != nil || !res.V2 || res.Status != 401 || len(res.Challenges) != 1 || !strings.HasPrefix(res.Challenges[0], "Basic") {
		t.Fatalf("%+v %v", res, err)
	}
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	res, err = client(t, strings.TrimPrefix(plain.URL, "http://")).Ping(context.Background())
	if err != nil || res.V2 {
		t.Fatalf("a plain web server: %+v %v", res, err)
	}
}

func TestNames(t *testing.T) {
	for _, bad := range []string{"", "Foo", "a//b", "-a", "a-", "a/", "a b", strings.Repeat("a", 256)} {
		if err := ValidateRepositoryName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := ValidateRepositoryName("Team/App"); err == nil || !strings.Contains(err.Error(), "must be lowercase") {
		t.Errorf("upper case: %v", err)
	}
	for _, good := range []string{"a", "library/alpine", "a.b_c__d--e/f0", "x/y/z"} {
		if err := ValidateRepositoryName(good); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
	for _, bad := range []string{"", "https://r", "r/x", "a b"} {
		if _, err := NewRegistry(bad); err == nil {
			t.Errorf("host %q accepted", bad)
		}
	}
}
