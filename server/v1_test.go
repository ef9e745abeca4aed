package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/legacy/tarsum"
	"golang.org/x/crypto/bcrypt"
)

// The testdata chain: the parent first. The original client's tests tagged
// the child foo42/bar:latest.
const (
	parentID = "77dbf71da1d00e3fbddc480176eac8994025630c6590d11cfc8fe1209c2a1d20"
	childID  = "42d718c941f5c532ac049bf0b0ab53f0062f09a03afd4aa4a02c098e46032b9d"
)

// testImage is one image of testdata/v1, with both checksums a push sends.
type testImage struct {
	id       string
	json     []byte
	layer    []byte
	ancestry []string
	payload  string // from the checksum-payload file
	tarsum   string // computed with the tarsum package
}

// testChain returns the testdata images, parent first.
func testChain(t *testing.T) []testImage {
	t.Helper()
	var imgs []testImage
	for _, im := range testutil.V1Chain(t, filepath.Join("testdata", "v1"), parentID, childID) {
		img := testImage{id: im.ID, json: im.JSON, layer: im.Layer, ancestry: im.Ancestry, payload: im.Payload}
		ts, err := tarsum.FromReader(bytes.NewReader(img.layer), img.json)
		if err != nil {
			t.Fatal(err)
		}
		img.tarsum = ts
		imgs = append(imgs, img)
	}
	return imgs
}

// v1Env is a V1 server on a loopback httptest server.
type v1Env struct {
	t    *testing.T
	root string
	srv  *V1
	ts   *httptest.Server
}

func newV1Env(t *testing.T, opts ...V1Option) *v1Env {
	t.Helper()
	root := t.TempDir()
	// Registering accounts at bcrypt's default cost takes most of a second
	// under the race detector.
	opts = append([]V1Option{WithV1BcryptCost(bcrypt.MinCost)}, opts...)
	srv, err := NewV1(root, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &v1Env{t: t, root: root, srv: srv, ts: ts}
}

// answer is a response read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// jsonString decodes the body as a JSON string.
func (a answer) jsonString(t *testing.T) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(a.body, &s); err != nil {
		t.Fatalf("body %q is not a JSON string: %v", a.body, err)
	}
	return s
}

// errorMessage decodes the body as {"error": "..."}.
func (a answer) errorMessage(t *testing.T) string {
	t.Helper()
	var e v1Error
	if err := json.Unmarshal(a.body, &e); err != nil {
		t.Fatalf("body %q is not a JSON error: %v", a.body, err)
	}
	return e.Error
}

// reqOpt adjusts a request.
type reqOpt func(*http.Request)

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Add(k, v) } }
func withBasic(user, pass string) reqOpt {
	return func(r *http.Request) { r.SetBasicAuth(user, pass) }
}
func withToken(tokens ...string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Token "+strings.Join(tokens, ",")) }
}

// chunked hides a body's length so that the client sends it with chunked
// transfer encoding, as the v1 client sends layers.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

// call sends a request to path, relative to /v1/, with a client that does not
// follow redirects or keep cookies.
func (e *v1Env) call(method, path string, body io.Reader, opts ...reqOpt) answer {
	e.t.Helper()
	return callURL(e.t, http.DefaultTransport, method, e.ts.URL+"/v1/"+path, body, opts...)
}

func callURL(t *testing.T, rt http.RoundTripper, method, url string, body io.Reader, opts ...reqOpt) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// expect fails the test unless a has the wanted status.
func expect(t *testing.T, what string, a answer, status int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, a.status, status, a.body)
	}
}

func jsonBody(t *testing.T, v any) io.Reader {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

// announce sends PUT repositories/NAME/ as the client does and returns the
// token it got.
func (e *v1Env) announce(name string, imgs []testImage, opts ...reqOpt) string {
	e.t.Helper()
	var list []map[string]string
	for _, img := range imgs {
		list = append(list, map[string]string{"id": img.id})
	}
	opts = append(opts, withHeader("X-Docker-Token", "true"), withHeader("Content-Type", "application/json"))
	a := e.call(http.MethodPut, "repositories/"+name+"/", jsonBody(e.t, list), opts...)
	if a.status != http.StatusOK && a.status != http.StatusCreated {
		e.t.Fatalf("announce %s: status %d, body %s", name, a.status, a.body)
	}
	tok := a.header.Get("X-Docker-Token")
	if tok == "" || a.header.Get("X-Docker-Endpoints") == "" {
		e.t.Fatalf("announce %s: token %q, endpoints %q: both must be set", name, tok, a.header.Get("X-Docker-Endpoints"))
	}
	return tok
}

// pushImage sends one image's json, layer (chunked) and checksums.
func (e *v1Env) pushImage(img testImage, opts ...reqOpt) {
	e.t.Helper()
	expect(e.t, "PUT json", e.call(http.MethodPut, "images/"+img.id+"/json", bytes.NewReader(img.json), opts...), http.StatusOK)
	expect(e.t, "PUT layer", e.call(http.MethodPut, "images/"+img.id+"/layer", chunked{bytes.NewReader(img.layer)}, opts...), http.StatusOK)
	sums := append([]reqOpt{withHeader("X-Docker-Checksum", img.tarsum), withHeader("X-Docker-Checksum-Payload", img.payload)}, opts...)
	expect(e.t, "PUT checksum", e.call(http.MethodPut, "images/"+img.id+"/checksum", nil, sums...), http.StatusOK)
}

// push runs a whole v1 push of imgs to name, tagging the last one, and
// returns the write token. basic are the credentials for the index calls.
func (e *v1Env) push(name, tag string, imgs []testImage, basic ...reqOpt) string {
	e.t.Helper()
	tok := e.announce(name, imgs, basic...)
	for _, img := range imgs {
		e.pushImage(img, withToken(tok))
	}
	last := imgs[len(imgs)-1]
	a := e.call(http.MethodPut, "repositories/"+name+"/tags/"+tag, jsonBody(e.t, last.id), withToken(tok), withHeader("Content-Type", "application/json"))
	expect(e.t, "PUT tag", a, http.StatusOK)
	var closing []map[string]string
	for _, img := range imgs {
		closing = append(closing, map[string]string{"id": img.id, "checksum": img.tarsum})
	}
	close := append([]reqOpt{withHeader("X-Docker-Endpoints", e.ts.Listener.Addr().String())}, basic...)
	expect(e.t, "close push", e.call(http.MethodPut, "repositories/"+name+"/images", jsonBody(e.t, closing), close...), http.StatusNoContent)
	return tok
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
