package legacy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hoist-dev/hoist/auth"

	"github.com/hoist-dev/hoist/hosts"
	"github.com/hoist-dev/hoist/internal/testutil"
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

// readLayer pulls foo42/bar:latest through c and reads the layer of
// image id whole; the error is the read's.
func readLayer(t *testing.T, c *Client, id string) ([]byte, error) {
	t.Helper()
	ctx := context.Background()
	rc, err := c.Pull(ctx, "foo42/bar", "latest")
	if err != nil {
		t.Fatal(err)
	}
	l, err := rc.Layer(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return io.ReadAll(l)
}

// testChain returns the testdata chain, base first.
func testChain(t testing.TB) []testImage {
	t.Helper()
	var out []testImage
	for _, im := range testutil.V1Chain(t, filepath.Join("testdata", "v1"), baseID, childID) {
		out = append(out, testImage{id: im.ID, json: im.JSON, layer: im.Layer, payload: im.Payload})
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
	call := func(method, path string, hdr http.Header, body []byte, want int) int {
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
		if resp.StatusCode != want && !(resp.StatusCode == http.StatusConflict && strings.HasSuffix(path, "/json")) {
			t.Fatalf("seeding: %s %s: %s, want %d", method, path, resp.Status, want)
		}
		return resp.StatusCode
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
		if call(http.MethodPut, "images/"+img.id+"/json", nil, img.json, http.StatusOK) == http.StatusConflict {
			continue // already there
		}
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
	method, path, auth, cookie, token, transferEncoding, rng string
	endpoints                                                []string
	contentLength                                            int64
}

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, recorded{
			method: r.Method, path: r.URL.Path, auth: r.Header.Get("Authorization"),
			cookie: r.Header.Get("Cookie"), token: r.Header.Get("X-Docker-Token"),
			endpoints:        r.Header.Values("X-Docker-Endpoints"),
			rng:              r.Header.Get("Range"),
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

// staticCred is a keychain holding the account's credentials.
func staticCred(a server.V1Account) auth.Keychain {
	return auth.Static(auth.Credential{Username: a.Username, Password: a.Password})
}

// memChain is a Chain held in memory, for pushing test images.
type memChain struct {
	ids    []string
	json   map[string][]byte
	layers map[string][]byte

	mu     sync.Mutex
	opened map[string]int // Layer calls per image
}

func sliceChain(images []testImage) *memChain {
	m := &memChain{json: map[string][]byte{}, layers: map[string][]byte{}, opened: map[string]int{}}
	for _, img := range images {
		m.ids = append(m.ids, img.id)
		m.json[img.id] = img.json
		m.layers[img.id] = img.layer
	}
	return m
}

func (m *memChain) IDs() []string { return m.ids }
func (m *memChain) JSON(_ context.Context, id string) ([]byte, error) {
	return m.json[id], nil
}
func (m *memChain) Layer(_ context.Context, id string) (io.ReadCloser, error) {
	m.mu.Lock()
	m.opened[id]++
	m.mu.Unlock()
	// A reader that is not a *bytes.Reader, so the layer goes out chunked
	// as from any stream.
	return io.NopCloser(io.MultiReader(bytes.NewReader(m.layers[id]))), nil
}

// makeLayer returns a tar holding files (name to content), gzipped when
// compress is set.
func makeLayer(t testing.TB, files map[string]string, compress bool) []byte {
	t.Helper()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		body := files[n]
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if !compress {
		return tb.Bytes()
	}
	var gb bytes.Buffer
	gw := gzip.NewWriter(&gb)
	gw.Write(tb.Bytes())
	gw.Close()
	return gb.Bytes()
}

// newID returns a random v1 image ID.
func newID(t testing.TB) string {
	t.Helper()
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// newChain makes a chain of images over layers, base first, each with a
// v1 JSON naming its parent.
func newChain(t testing.TB, layers ...[]byte) []testImage {
	t.Helper()
	var out []testImage
	parent := ""
	for i, l := range layers {
		id := newID(t)
		j := map[string]any{"id": id, "created": time.Date(2014, 6, 1, 0, i, 0, 0, time.UTC).Format(time.RFC3339Nano),
			"container_config": map[string]any{"Cmd": []string{"/bin/sh", "-c", fmt.Sprintf("step %d", i)}}}
		if parent != "" {
			j["parent"] = parent
		}
		b, _ := json.Marshal(j)
		out = append(out, testImage{id: id, json: b, layer: l})
		parent = id
	}
	return out
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func equalStrings(a, b []string) bool { return slices.Equal(a, b) }
