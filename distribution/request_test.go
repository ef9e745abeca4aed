package distribution

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/testutil"
)

func TestNextLink(t *testing.T) {
	base, _ := url.Parse("https://r.example/v2/a/tags/list?n=2")
	tests := []struct{ header, want string }{
		{`</v2/a/tags/list?last=b&n=2>; rel="next"`, "https://r.example/v2/a/tags/list?last=b&n=2"},
		{`<https://other.example/page2>; rel=next`, "https://other.example/page2"},
		{`<page2>; rel="prev", </v2/a/tags/list?last=c>; type="x"; rel="next"`, "https://r.example/v2/a/tags/list?last=c"},
		{`</x>; rel="first last"`, ""},
		{`garbage`, ""},
		{``, ""},
	}
	for _, tt := range tests {
		resp := &http.Response{Header: http.Header{}, Request: &http.Request{URL: base}}
		if tt.header != "" {
			resp.Header.Set("Link", tt.header)
		}
		got := ""
		if u := nextLink(resp); u != nil {
			got = u.String()
		}
		if got != tt.want {
			t.Errorf("Link %q: %q, want %q", tt.header, got, tt.want)
		}
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{"", 0, false}, {"0-0", 0, false}, {"0-99", 100, false}, {"bytes=0-99", 100, false},
		{"5-99", 0, true}, {"0-", 0, true}, {"x", 0, true}, {"0--1", 0, true},
	}
	for _, tt := range tests {
		got, err := parseRange(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("parseRange(%q) = %d, %v", tt.in, got, err)
		}
	}
}

// Blob GETs redirected to a storage host are followed, and a resume goes
// back through the registry (whose redirect may carry a fresh signature).
func TestBlobRedirectToStorage(t *testing.T) {
	blob := randomBytes(t, 3_000_000)
	desc := content.NewDescriptor("", blob)
	var seen lines
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.add(r.URL.Query().Get("sig") + " " + r.Header.Get("Range"))
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(blob))
	}))
	defer storage.Close()
	cut := testutil.NewFaultProxy(t, storage.URL, testutil.Fault{Times: 1, Action: testutil.CutResponseAfter(1_000_000)})
	var n atomic.Int32
	srv := testutil.NewRegistry(t, testutil.WithMiddleware(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") {
				http.Redirect(w, r, fmt.Sprintf("%s/store/%s?sig=s%d", cut.URL, desc.Digest.Encoded(), n.Add(1)), http.StatusTemporaryRedirect)
				return
			}
			h.ServeHTTP(w, r)
		})
	}))
	r := mustRepo(t, client(t, srv.Host), "redirected")
	if got := readBlob(t, r, desc); !bytes.Equal(got, blob) {
		t.Fatal("blob differs")
	}
	if got, want := fmt.Sprint(seen.get()), "[s1  s2 bytes=1000000-]"; got != want {
		t.Fatalf("storage saw %q, want %q", got, want)
	}
}

// The referrers API is paginated by Link, and the artifactType filter holds
// even when the registry ignores it.
func TestReferrersPagination(t *testing.T) {
	subject := digest.FromString("subject")
	d := func(s, at string) ocispec.Descriptor {
		return ocispec.Descriptor{MediaType: content.MediaTypeOCIManifest, Digest: digest.FromString(s), Size: 10, ArtifactType: at}
	}
	pages := map[string][]ocispec.Descriptor{
		"":  {d("a", sbomType), d("b", sigType)},
		"2": {d("c", sbomType)},
	}
	var filterSeen lines
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/app/referrers/"+subject.String() {
			http.NotFound(w, r)
			return
		}
		filterSeen.add(r.URL.Query().Get("artifactType"))
		page := r.URL.Query().Get("page")
		list := pages[page]
		if page == "" {
			w.Header().Set("Link", `</v2/app/referrers/`+subject.String()+`?page=2>; rel="next"`)
		}
		w.Header().Set("Content-Type", content.MediaTypeOCIIndex)
		fmt.Fprintf(w, `{"schemaVersion":2,"mediaType":%q,"manifests":%s}`, content.MediaTypeOCIIndex, mustJSON(t, list))
	}))
	defer srv.Close()
	r := mustRepo(t, client(t, strings.TrimPrefix(srv.URL, "http://")), "app")
	all, err := r.Referrers(context.Background(), ocispec.Descriptor{Digest: subject}, "")
	if err != nil || len(all) != 3 {
		t.Fatalf("%d referrers, %v", len(all), err)
	}
	only, err := r.Referrers(context.Background(), ocispec.Descriptor{Digest: subject}, sbomType)
	if err != nil || len(only) != 2 {
		t.Fatalf("filtered: %+v %v", only, err)
	}
	if got := filterSeen.get(); fmt.Sprint(got) != fmt.Sprintf("[  %s ]", sbomType) {
		t.Fatalf("artifactType sent: %q", got)
	}
}

func TestBlobFromResumes(t *testing.T) {
	r, p, srv := proxied(t, "from", []testutil.Fault{
		{Match: getBlob, Times: 1, Action: testutil.CutResponseAfter(100_000)},
	})
	blob := randomBytes(t, 1_000_000)
	seed(t, srv, "from", blob)
	desc := content.NewDescriptor("", blob)
	for _, off := range []int64{400_000, 1_000_000} {
		rc, err := r.BlobFrom(context.Background(), desc, off)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		_, err = got.ReadFrom(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got.Bytes(), blob[off:]) {
			t.Fatalf("from %d: %d bytes, %v", off, got.Len(), err)
		}
	}
	ranges, _ := blobGets(p)
	if fmt.Sprint(ranges) != "[bytes=400000- bytes=500000-]" {
		t.Fatalf("GETs with Range %q", ranges)
	}
	if _, err := r.BlobFrom(context.Background(), desc, desc.Size+1); err == nil {
		t.Fatal("offset past the end accepted")
	}
}
