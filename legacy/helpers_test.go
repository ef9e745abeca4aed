package legacy

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hoist-dev/hoist/hosts"
	"github.com/hoist-dev/hoist/server"
	"github.com/hoist-dev/hoist/transport"
)

// The testdata chain the original client's tests used: 42d718c9… is the
// child of 77dbf71d…, tagged foo42/bar:latest.
const (
	baseID  = "77dbf71da1d00e3fbddc480176eac8994025630c6590d11cfc8fe1209c2a1d20"
	childID = "42d718c941f5c532ac049bf0b0ab53f0062f09a03afd4aa4a02c098e46032b9d"
)

// testImage is one image of testdata/v1.
type testImage struct {
	id, payload string
	json, layer []byte
}

// testChain returns the testdata chain, base first.
func testChain(t testing.TB) []testImage {
	t.Helper()
	var out []testImage
	for _, id := range []string{baseID, childID} {
		dir := filepath.Join("testdata", "v1", id)
		read := func(name string) []byte {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		out = append(out, testImage{
			id:      id,
			json:    read("json"),
			layer:   read("layer"),
			payload: strings.TrimSpace(string(read("checksum-payload"))),
		})
	}
	return out
}

// instantClock makes the transport's backoff free, so tests with failing
// endpoints do not wait.
type instantClock struct{}

func (instantClock) Now() time.Time { return time.Now() }
func (instantClock) Sleep(ctx context.Context, _ time.Duration) error {
	return ctx.Err()
}

// testTransport is hoist's transport with no certs.d lookups outside the
// test and no waiting between retries.
func testTransport(t testing.TB, extra ...transport.Option) *transport.Transport {
	t.Helper()
	opts := append([]transport.Option{
		transport.WithHosts(&hosts.Config{CertsDirs: []string{}}),
		transport.WithClock(instantClock{}),
	}, extra...)
	return transport.New(opts...)
}

// v1Server starts hoist's v1 server on loopback, behind wrap when given.
func v1Server(t testing.TB, wrap func(http.Handler) http.Handler, opts ...server.V1Option) (*server.V1, *httptest.Server) {
	t.Helper()
	opts = append([]server.V1Option{server.WithV1BcryptCost(bcrypt.MinCost)}, opts...)
	srv, err := server.NewV1(t.TempDir(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = srv
	if wrap != nil {
		h = wrap(h)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return srv, ts
}

// hostOf returns host:port of a test server.
func hostOf(ts *httptest.Server) string { return ts.Listener.Addr().String() }

// newTestClient returns a Client for host over the test transport.
func newTestClient(t testing.TB, host string, opts ...Option) *Client {
	t.Helper()
	opts = append([]Option{WithTransport(testTransport(t))}, opts...)
	c, err := NewClient(host, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// seed pushes images (base first) to name:tag on the server at base with
// plain HTTP requests, independently of the client under test, with the
// payload checksums from testdata. The server must have no accounts.
func seed(t testing.TB, base, name, tag string, images []testImage) {
	t.Helper()
	call := func(method, path string, hdr http.Header, body []byte, want int) {
		t.Helper()
		req, err := http.NewRequest(method, base+"/v1/"+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("seeding: %s %s: %s, want %d", method, path, resp.Status, want)
		}
	}
	var list []ImageEntry
	for _, img := range images {
		list = append(list, ImageEntry{ID: img.id})
	}
	b, _ := json.Marshal(list)
	req, _ := http.NewRequest(http.MethodPut, base+"/v1/repositories/"+name+"/", bytes.NewReader(b))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, img := range images {
		call(http.MethodPut, "images/"+img.id+"/json", nil, img.json, http.StatusOK)
		call(http.MethodPut, "images/"+img.id+"/layer", nil, img.layer, http.StatusOK)
		call(http.MethodPut, "images/"+img.id+"/checksum", http.Header{"X-Docker-Checksum-Payload": {img.payload}}, nil, http.StatusOK)
	}
	tb, _ := json.Marshal(images[len(images)-1].id)
	call(http.MethodPut, "repositories/"+name+"/tags/"+tag, http.Header{"Content-Type": {"application/json"}}, tb, http.StatusOK)
}

// recorder remembers requests that pass through it.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, path, auth, cookie, token, transferEncoding string
	contentLength                                       int64
}

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, recorded{
			method: r.Method, path: r.URL.Path, auth: r.Header.Get("Authorization"),
			cookie: r.Header.Get("Cookie"), token: r.Header.Get("X-Docker-Token"),
			transferEncoding: strings.Join(r.TransferEncoding, ","), contentLength: r.ContentLength,
		})
		rec.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (rec *recorder) all() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]recorded(nil), rec.reqs...)
}

// find returns the recorded requests with this method whose path ends
// with suffix.
func (rec *recorder) find(method, suffix string) []recorded {
	var out []recorded
	for _, r := range rec.all() {
		if r.method == method && strings.HasSuffix(r.path, suffix) {
			out = append(out, r)
		}
	}
	return out
}
