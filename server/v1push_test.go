package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var foo42 = V1Account{Username: "foo42", Password: "s3cret!", Email: "foo42@example.com", Active: true}

// pull fetches name:tag through the index and the registry as the v1 client
// does, and checks every image against want.
func (e *v1Env) pull(name, tag string, want []testImage, basic ...reqOpt) {
	t := e.t
	t.Helper()
	a := e.call(http.MethodGet, "repositories/"+name+"/images", nil, append(basic, withHeader("X-Docker-Token", "true"))...)
	expect(t, "GET repository images", a, http.StatusOK)
	tok := a.header.Get("X-Docker-Token")
	if tok == "" {
		t.Fatal("GET repository images with X-Docker-Token: true gave no token")
	}
	if got := a.header.Get("X-Docker-Endpoints"); got != e.ts.Listener.Addr().String() {
		t.Errorf("X-Docker-Endpoints = %q, want the request's host %q", got, e.ts.Listener.Addr())
	}
	var list []repoImage
	if err := json.Unmarshal(a.body, &list); err != nil {
		t.Fatal(err)
	}
	wantList := make([]repoImage, len(want))
	for i, img := range want {
		wantList[i] = repoImage{ID: img.id, Checksum: img.tarsum}
	}
	if !reflect.DeepEqual(list, wantList) {
		t.Errorf("image list = %+v, want %+v", list, wantList)
	}

	a = e.call(http.MethodGet, "repositories/"+name+"/tags", nil, withToken(tok))
	expect(t, "GET tags", a, http.StatusOK)
	var tags map[string]string
	if err := json.Unmarshal(a.body, &tags); err != nil {
		t.Fatal(err)
	}
	top := want[len(want)-1]
	if tags[tag] != top.id {
		t.Fatalf("tags = %v, want %s -> %s", tags, tag, top.id)
	}
	a = e.call(http.MethodGet, "repositories/"+name+"/tags/"+tag, nil, withToken(tok))
	expect(t, "GET tag", a, http.StatusOK)
	if got := a.jsonString(t); got != top.id {
		t.Errorf("tag %s = %q, want %q", tag, got, top.id)
	}

	a = e.call(http.MethodGet, "images/"+top.id+"/ancestry", nil, withToken(tok))
	expect(t, "GET ancestry", a, http.StatusOK)
	var anc []string
	if err := json.Unmarshal(a.body, &anc); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(anc, top.ancestry) {
		t.Errorf("ancestry = %v, want %v", anc, top.ancestry)
	}

	for _, img := range want {
		a = e.call(http.MethodGet, "images/"+img.id+"/json", nil, withToken(tok))
		expect(t, "GET json", a, http.StatusOK)
		if !bytes.Equal(a.body, img.json) {
			t.Errorf("json of %s differs from what was pushed:\n%s\nwant\n%s", img.id, a.body, img.json)
		}
		if got := a.header.Get("X-Docker-Size"); got != strconv.Itoa(len(img.layer)) {
			t.Errorf("X-Docker-Size of %s = %q, want %d", img.id, got, len(img.layer))
		}
		if got := a.header.Get("X-Docker-Checksum-Payload"); got != img.payload {
			t.Errorf("X-Docker-Checksum-Payload of %s = %q, want %q", img.id, got, img.payload)
		}
		a = e.call(http.MethodGet, "images/"+img.id+"/layer", nil, withToken(tok))
		expect(t, "GET layer", a, http.StatusOK)
		if !bytes.Equal(a.body, img.layer) {
			t.Errorf("layer of %s differs from what was pushed (%d bytes, want %d)", img.id, len(a.body), len(img.layer))
		}
	}
}

func TestV1PushPull(t *testing.T) {
	for _, standalone := range []bool{true, false} {
		t.Run("standalone="+strconv.FormatBool(standalone), func(t *testing.T) {
			e := newV1Env(t, WithV1Account(foo42), WithV1Standalone(standalone))
			chain := testChain(t)
			basic := withBasic(foo42.Username, foo42.Password)
			e.push("foo42/bar", "latest", chain, basic)
			e.pull("foo42/bar", "latest", chain)

			// Pushing again: every image already exists, which the client
			// recognises by the JSON error body and skips.
			tok := e.announce("foo42/bar", chain, basic)
			for _, img := range chain {
				a := e.call(http.MethodPut, "images/"+img.id+"/json", bytes.NewReader(img.json), withToken(tok))
				expect(t, "PUT json of an existing image", a, http.StatusConflict)
				if msg := a.errorMessage(t); msg != "Image already exists" {
					t.Errorf("error = %q, want %q", msg, "Image already exists")
				}
				expect(t, "PUT layer of an existing image",
					e.call(http.MethodPut, "images/"+img.id+"/layer", bytes.NewReader(img.layer), withToken(tok)), http.StatusConflict)
			}
		})
	}
}

// A server started again on the same root serves what the first one stored.
func TestV1Persistence(t *testing.T) {
	e := newV1Env(t, WithV1Account(foo42))
	chain := testChain(t)
	e.push("foo42/bar", "latest", chain, withBasic(foo42.Username, foo42.Password))

	srv, err := NewV1(e.root)
	if err != nil {
		t.Fatal(err)
	}
	e2 := &v1Env{t: t, root: e.root, srv: srv, ts: httptest.NewServer(srv)}
	defer e2.ts.Close()
	e2.pull("foo42/bar", "latest", chain)
}

func TestV1WrongChecksum(t *testing.T) {
	parent := testChain(t)[0]
	tests := []struct {
		name             string
		tarsum, payload  string
		status           int
		wantErrorMessage string
	}{
		{"wrong tarsum", "tarsum+sha256:" + parent.payload[len("sha256:"):], parent.payload, http.StatusBadRequest, "Wrong checksum"},
		{"wrong payload", parent.tarsum, "sha256:" + parent.tarsum[len("tarsum+sha256:"):], http.StatusBadRequest, "Wrong checksum"},
		{"later tarsum version", "tarsum.v1+sha256:" + parent.tarsum[len("tarsum+sha256:"):], parent.payload, http.StatusBadRequest, "Wrong checksum"},
		{"payload only, wrong", "", "sha256:0000", http.StatusBadRequest, "Wrong checksum"},
		{"none", "", "", http.StatusBadRequest, ""},
		// What older clients sent: the payload checksum in X-Docker-Checksum.
		{"payload in X-Docker-Checksum", parent.payload, "", http.StatusOK, ""},
		{"tarsum only", parent.tarsum, "", http.StatusOK, ""},
		{"both", parent.tarsum, parent.payload, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newV1Env(t)
			expect(t, "PUT json", e.call(http.MethodPut, "images/"+parent.id+"/json", bytes.NewReader(parent.json)), http.StatusOK)
			expect(t, "PUT layer", e.call(http.MethodPut, "images/"+parent.id+"/layer", chunked{bytes.NewReader(parent.layer)}), http.StatusOK)
			a := e.call(http.MethodPut, "images/"+parent.id+"/checksum", nil,
				withHeader("X-Docker-Checksum", tt.tarsum), withHeader("X-Docker-Checksum-Payload", tt.payload))
			expect(t, "PUT checksum", a, tt.status)
			if tt.wantErrorMessage != "" {
				if msg := a.errorMessage(t); msg != tt.wantErrorMessage {
					t.Errorf("error = %q, want %q", msg, tt.wantErrorMessage)
				}
			}
			visible := http.StatusNotFound
			if tt.status == http.StatusOK {
				visible = http.StatusOK
			}
			for _, p := range []string{"json", "layer", "ancestry"} {
				expect(t, "GET "+p, e.call(http.MethodGet, "images/"+parent.id+"/"+p, nil), visible)
			}
			if visible == http.StatusNotFound {
				// Not tagged either, and the right checksums still complete it.
				expect(t, "tag a rejected image", e.call(http.MethodPut, "repositories/foo42/bar/tags/latest", jsonBody(t, parent.id)), http.StatusNotFound)
				expect(t, "PUT right checksum", e.call(http.MethodPut, "images/"+parent.id+"/checksum", nil,
					withHeader("X-Docker-Checksum", parent.tarsum), withHeader("X-Docker-Checksum-Payload", parent.payload)), http.StatusOK)
				expect(t, "GET json", e.call(http.MethodGet, "images/"+parent.id+"/json", nil), http.StatusOK)
			}
		})
	}
}

// A layer that is not a tar has no TarSum; only its payload checksum can
// complete the image.
func TestV1LayerNotATar(t *testing.T) {
	e := newV1Env(t)
	img := testChain(t)[0]
	img.layer = []byte("not a tar at all")
	expect(t, "PUT json", e.call(http.MethodPut, "images/"+img.id+"/json", bytes.NewReader(img.json)), http.StatusOK)
	expect(t, "PUT layer", e.call(http.MethodPut, "images/"+img.id+"/layer", bytes.NewReader(img.layer)), http.StatusOK)
	payload := "sha256:" + sha256Hex(append(append(bytes.Clone(img.json), '\n'), img.layer...))
	expect(t, "PUT an invented tarsum", e.call(http.MethodPut, "images/"+img.id+"/checksum", nil,
		withHeader("X-Docker-Checksum", "tarsum+sha256:"+sha256Hex(nil)), withHeader("X-Docker-Checksum-Payload", payload)), http.StatusBadRequest)
	expect(t, "PUT the payload checksum", e.call(http.MethodPut, "images/"+img.id+"/checksum", nil,
		withHeader("X-Docker-Checksum-Payload", payload)), http.StatusOK)
}

func TestV1UploadOrder(t *testing.T) {
	chain := testChain(t)
	parent, child := chain[0], chain[1]
	e := newV1Env(t)

	a := e.call(http.MethodPut, "images/"+child.id+"/json", bytes.NewReader(child.json))
	expect(t, "child before its parent", a, http.StatusBadRequest)
	expect(t, "layer before json", e.call(http.MethodPut, "images/"+parent.id+"/layer", bytes.NewReader(parent.layer)), http.StatusNotFound)
	expect(t, "checksum before json", e.call(http.MethodPut, "images/"+parent.id+"/checksum", nil,
		withHeader("X-Docker-Checksum-Payload", parent.payload)), http.StatusNotFound)
	expect(t, "json whose id is not the URL's", e.call(http.MethodPut, "images/"+child.id+"/json", bytes.NewReader(parent.json)), http.StatusBadRequest)
	expect(t, "json that is not JSON", e.call(http.MethodPut, "images/"+parent.id+"/json", bytes.NewReader([]byte("{"))), http.StatusBadRequest)
	expect(t, "PUT json", e.call(http.MethodPut, "images/"+parent.id+"/json", bytes.NewReader(parent.json)), http.StatusOK)
	expect(t, "checksum before layer", e.call(http.MethodPut, "images/"+parent.id+"/checksum", nil,
		withHeader("X-Docker-Checksum-Payload", parent.payload)), http.StatusBadRequest)
	expect(t, "a pending image is not visible", e.call(http.MethodGet, "images/"+parent.id+"/json", nil), http.StatusNotFound)
	expect(t, "json of an invalid id", e.call(http.MethodPut, "images/ABC/json", bytes.NewReader(parent.json)), http.StatusNotFound)
}

// failAfter yields n bytes of r, waits for ready, and then fails, like a
// client that dies halfway through an upload.
type failAfter struct {
	r     io.Reader
	n     int
	ready <-chan struct{}
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		<-f.ready
		return 0, errors.New("client died")
	}
	n, err := f.r.Read(p[:min(len(p), f.n)])
	f.n -= n
	return n, err
}

// A layer upload that breaks off leaves nothing: no temporary file and no
// layer; the next complete upload works.
func TestV1BrokenLayerUpload(t *testing.T) {
	var logs syncBuffer
	e := newV1Env(t, WithV1Logger(slog.New(slog.NewTextHandler(&logs, nil))))
	img := testChain(t)[0]
	big := bytes.Repeat(img.layer, 4096) // long enough to be cut mid-stream
	expect(t, "PUT json", e.call(http.MethodPut, "images/"+img.id+"/json", bytes.NewReader(img.json)), http.StatusOK)

	// The client dies only once the handler runs, and the test waits for
	// the handler to return before looking at the disk.
	started, finished := make(chan struct{}), make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		defer close(finished)
		e.srv.ServeHTTP(w, r)
	}))
	defer ts.Close()
	req, err := http.NewRequest(http.MethodPut, ts.URL+"/v1/images/"+img.id+"/layer",
		&failAfter{r: bytes.NewReader(big), n: len(big) / 2, ready: started})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.DefaultTransport.RoundTrip(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the broken upload got status %d, want a transport error", resp.StatusCode)
	}
	select {
	case <-finished:
	case <-time.After(30 * time.Second):
		t.Fatal("the layer handler did not return after the client died")
	}
	if !strings.Contains(logs.String(), "layer upload broke off") {
		t.Errorf("the server did not log the broken upload; its log:\n%s", logs.String())
	}
	if tmp, err := os.ReadDir(filepath.Join(e.root, "hoist", "tmp")); (err != nil && !errors.Is(err, fs.ErrNotExist)) || len(tmp) != 0 {
		t.Errorf("hoist/tmp/ holds %v (%v) after a broken upload, want nothing", tmp, err)
	}
	if _, err := os.Stat(filepath.Join(e.root, "hoist", "v1", "pending", img.id, "layer")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a broken upload left a layer: %v", err)
	}

	expect(t, "PUT layer", e.call(http.MethodPut, "images/"+img.id+"/layer", chunked{bytes.NewReader(img.layer)}), http.StatusOK)
	expect(t, "PUT checksum", e.call(http.MethodPut, "images/"+img.id+"/checksum", nil,
		withHeader("X-Docker-Checksum", img.tarsum), withHeader("X-Docker-Checksum-Payload", img.payload)), http.StatusOK)
}

// Re-sending an image's JSON restarts its upload: an earlier layer no longer
// counts.
func TestV1RestartPendingImage(t *testing.T) {
	e := newV1Env(t)
	img := testChain(t)[0]
	expect(t, "PUT json", e.call(http.MethodPut, "images/"+img.id+"/json", bytes.NewReader(img.json)), http.StatusOK)
	expect(t, "PUT layer", e.call(http.MethodPut, "images/"+img.id+"/layer", bytes.NewReader(img.layer)), http.StatusOK)
	expect(t, "PUT json again", e.call(http.MethodPut, "images/"+img.id+"/json", bytes.NewReader(img.json)), http.StatusOK)
	expect(t, "checksum without a layer", e.call(http.MethodPut, "images/"+img.id+"/checksum", nil,
		withHeader("X-Docker-Checksum-Payload", img.payload)), http.StatusBadRequest)
}

func TestV1LayerRange(t *testing.T) {
	e := newV1Env(t)
	img := testChain(t)[0]
	e.pushImage(img)

	a := e.call(http.MethodHead, "images/"+img.id+"/layer", nil)
	expect(t, "HEAD layer", a, http.StatusOK)
	if a.header.Get("Accept-Ranges") != "bytes" {
		t.Errorf("Accept-Ranges = %q, want bytes", a.header.Get("Accept-Ranges"))
	}
	if a.header.Get("Content-Length") != strconv.Itoa(len(img.layer)) {
		t.Errorf("HEAD Content-Length = %q, want %d", a.header.Get("Content-Length"), len(img.layer))
	}
	if len(a.body) != 0 {
		t.Errorf("HEAD returned %d body bytes", len(a.body))
	}

	for _, from := range []int{0, 10, len(img.layer) - 1} {
		a = e.call(http.MethodGet, "images/"+img.id+"/layer", nil, withHeader("Range", "bytes="+strconv.Itoa(from)+"-"))
		expect(t, "GET layer with Range", a, http.StatusPartialContent)
		if !bytes.Equal(a.body, img.layer[from:]) {
			t.Errorf("Range bytes=%d-: got %d bytes, want the layer from offset %d", from, len(a.body), from)
		}
		wantRange := "bytes " + strconv.Itoa(from) + "-" + strconv.Itoa(len(img.layer)-1) + "/" + strconv.Itoa(len(img.layer))
		if got := a.header.Get("Content-Range"); got != wantRange {
			t.Errorf("Content-Range = %q, want %q", got, wantRange)
		}
	}
	a = e.call(http.MethodGet, "images/"+img.id+"/layer", nil, withHeader("Range", "bytes="+strconv.Itoa(len(img.layer)+5)+"-"))
	expect(t, "Range past the end", a, http.StatusRequestedRangeNotSatisfiable)
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
