package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// hit is one request a registry saw.
type hit struct {
	method, path, authz string
	status              int
}

// recorder is registry middleware that records every request.
type recorder struct {
	mu   sync.Mutex
	hits []hit
}

func (rc *recorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		rc.mu.Lock()
		rc.hits = append(rc.hits, hit{r.Method, r.URL.Path, r.Header.Get("Authorization"), sw.status})
		rc.mu.Unlock()
	})
}

func (rc *recorder) count(status int) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, h := range rc.hits {
		if h.status == status {
			n++
		}
	}
	return n
}

func (rc *recorder) all() []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hit(nil), rc.hits...)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// newFakeClock is a Clock a test moves by hand, starting now.
func newFakeClock() *testutil.Clock { return testutil.NewClock(time.Now()) }

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func do(t *testing.T, c *http.Client, method, u string, body []byte) *http.Response {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return resp
}

func expect(t *testing.T, resp *http.Response, status int) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %s, want %d: %s", resp.Request.Method, resp.Request.URL, resp.Status, status, b)
	}
	return b
}

// pushBlob uploads data to repo with POST then PUT and returns its digest.
func pushBlob(t *testing.T, c *http.Client, base, repo string, data []byte) string {
	t.Helper()
	resp := do(t, c, http.MethodPost, base+"/v2/"+repo+"/blobs/uploads/", nil)
	expect(t, resp, http.StatusAccepted)
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	d := digestOf(data)
	q := loc.Query()
	q.Set("digest", d)
	loc.RawQuery = q.Encode()
	expect(t, do(t, c, http.MethodPut, loc.String(), data), http.StatusCreated)
	return d
}
