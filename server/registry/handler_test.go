package registry

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/opencontainers/go-digest"

	"github.com/hoist-dev/hoist/server/storage"
)

func newServer(t *testing.T, d *inmemory.Driver, opts ...Option) *httptest.Server {
	t.Helper()
	ns, err := storage.New(d)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(ns, opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url string, body []byte, hdr ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func want(t *testing.T, resp *http.Response, status int) {
	t.Helper()
	if resp.StatusCode != status {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s %s: %d %s, want %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, b, status)
	}
}

// A chunked upload started on one instance is continued and finished on
// another over the same storage; an out-of-order chunk is refused with
// 416, and the status GET says where the upload stands.
func TestChunkedUploadAcrossInstances(t *testing.T) {
	d := inmemory.New()
	a, b := newServer(t, d), newServer(t, d)
	data := bytes.Repeat([]byte("hoist"), 3000)
	dg := digest.FromBytes(data)

	resp := do(t, "POST", a.URL+"/v2/x/y/blobs/uploads/", nil)
	want(t, resp, http.StatusAccepted)
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/v2/x/y/blobs/uploads/") {
		t.Fatalf("Location %q", loc)
	}
	want(t, do(t, "PATCH", a.URL+loc, data[:5000], "Content-Range", "0-4999", "Content-Type", "application/octet-stream"), http.StatusAccepted)
	resp = do(t, "PATCH", b.URL+loc, data[6000:7000], "Content-Range", "6000-6999")
	want(t, resp, http.StatusRequestedRangeNotSatisfiable)
	resp = do(t, "GET", b.URL+loc, nil)
	want(t, resp, http.StatusNoContent)
	if r := resp.Header.Get("Range"); r != "0-4999" {
		t.Fatalf("upload status Range %q, want 0-4999", r)
	}
	if resp := do(t, "HEAD", a.URL+"/v2/x/y/blobs/"+dg.String(), nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("blob visible before the upload finished: %d", resp.StatusCode)
	}
	want(t, do(t, "PUT", b.URL+loc+"?digest="+dg.String(), data[5000:], "Content-Range", "5000-14999"), http.StatusCreated)
	resp = do(t, "GET", a.URL+"/v2/x/y/blobs/"+dg.String(), nil)
	want(t, resp, http.StatusOK)
	got, _ := io.ReadAll(resp.Body)
	if !bytes.Equal(got, data) {
		t.Fatal("blob read back differs")
	}
	resp = do(t, "GET", a.URL+"/v2/x/y/blobs/"+dg.String(), nil, "Range", "bytes=10-19")
	want(t, resp, http.StatusPartialContent)
	if got, _ := io.ReadAll(resp.Body); !bytes.Equal(got, data[10:20]) {
		t.Fatalf("range read %q", got)
	}
}

func TestErrorsAndReadOnly(t *testing.T) {
	d := inmemory.New()
	srv := newServer(t, d)
	resp := do(t, "GET", srv.URL+"/v2/nope/manifests/latest", nil)
	want(t, resp, http.StatusNotFound)
	if b, _ := io.ReadAll(resp.Body); !bytes.Contains(b, []byte(CodeNameUnknown)) {
		t.Fatalf("missing repository answered %s", b)
	}
	want(t, do(t, "GET", srv.URL+"/v2/nope/blobs/sha256:123", nil), http.StatusBadRequest)
	want(t, do(t, "PUT", srv.URL+"/v2/a/manifests/v1", []byte(`{"schemaVersion":2,"manifests":[],"layers":[]}`),
		"Content-Type", "application/vnd.oci.image.index.v1+json"), http.StatusBadRequest)
	want(t, do(t, "PATCH", srv.URL+"/v2/a/blobs/uploads/0123456789abcdef0123456789abcdef", []byte("x")), http.StatusNotFound)
	ro := newServer(t, d, WithReadOnly(true))
	want(t, do(t, "POST", ro.URL+"/v2/a/blobs/uploads/", nil), http.StatusMethodNotAllowed)
	want(t, do(t, "GET", ro.URL+"/v2/", nil), http.StatusOK)
}

func TestParseRoute(t *testing.T) {
	for p, w := range map[string]route{
		"/v2/":                               {kind: "base"},
		"/v2/_catalog":                       {kind: "catalog"},
		"/v2/a/blobs/tags/list":              {name: "a/blobs", kind: "tags"},
		"/v2/a/blobs/blobs/uploads/":         {name: "a/blobs", kind: "uploads"},
		"/v2/a/manifests/manifests/latest":   {name: "a/manifests", kind: "manifest", arg: "latest"},
		"/v2/a/b/blobs/uploads/abc":          {name: "a/b", kind: "upload", arg: "abc"},
		"/v2/a/referrers/sha256:00":          {name: "a", kind: "referrers", arg: "sha256:00"},
		"/v2/library/alpine/blobs/sha256:00": {name: "library/alpine", kind: "blob", arg: "sha256:00"},
	} {
		if got, ok := parseRoute(p); !ok || got != w {
			t.Errorf("parseRoute(%q) = %+v %v, want %+v", p, got, ok, w)
		}
	}
}

// With WithMaxUploads(1), a second upload request while one streams is
// answered 429 with Retry-After; once the first ends, uploads go on.
func TestMaxUploads(t *testing.T) {
	srv := newServer(t, inmemory.New(), WithMaxUploads(1))
	resp := do(t, "POST", srv.URL+"/v2/lim/blobs/uploads/", nil)
	want(t, resp, http.StatusAccepted)
	loc := srv.URL + resp.Header.Get("Location")

	pr, pw := io.Pipe()
	req, _ := http.NewRequest("PATCH", loc, pr)
	first := make(chan int, 1)
	go func() {
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			first <- -1
			return
		}
		r.Body.Close()
		first <- r.StatusCode
	}()
	pw.Write([]byte("streaming"))
	// The second request is refused while the first holds the one slot.
	var second *http.Response
	for range 200 {
		second = do(t, "POST", srv.URL+"/v2/lim/blobs/uploads/?digest="+digest.FromString("x").String(), []byte("x"))
		if second.StatusCode == http.StatusTooManyRequests {
			break
		}
		time.Sleep(10 * time.Millisecond) // until the first request has its slot
	}
	if second.StatusCode != http.StatusTooManyRequests || second.Header.Get("Retry-After") == "" {
		t.Fatalf("second upload while one streams: %d, Retry-After %q", second.StatusCode, second.Header.Get("Retry-After"))
	}
	pw.Close()
	if code := <-first; code != http.StatusAccepted {
		t.Fatalf("the first upload: %d", code)
	}
	want(t, do(t, "POST", srv.URL+"/v2/lim/blobs/uploads/?digest="+digest.FromString("x").String(), []byte("x")), http.StatusCreated)
}
