package serve

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"golang.org/x/crypto/bcrypt"
)

// start serves s on a loopback port until the test ends.
func start(t *testing.T, s *Server) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	var once sync.Once
	var result error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case result = <-done:
			case <-time.After(30 * time.Second):
				result = errors.New("Serve did not return within 30s after its context ended")
			}
		})
		return result
	}
	t.Cleanup(func() { stop() })
	return "http://" + ln.Addr().String(), stop
}

func get(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHtpasswdReadOnlyHealthMetrics(t *testing.T) {
	dir := t.TempDir()
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	pw := filepath.Join(dir, "htpasswd")
	os.WriteFile(pw, []byte("alice:"+string(hash)+"\n"), 0o600)
	var log strings.Builder
	s, err := New(WithDriver(inmemory.New()), WithHtpasswd(pw), WithReadOnly(true), WithAccessLog(&log))
	if err != nil {
		t.Fatal(err)
	}
	url, stop := start(t, s)

	req, _ := http.NewRequest("GET", url+"/v2/", nil)
	if code, _ := get(t, req); code != http.StatusUnauthorized {
		t.Fatalf("GET /v2/ without credentials: %d, want 401", code)
	}
	req.SetBasicAuth("alice", "wrong")
	if code, _ := get(t, req); code != http.StatusUnauthorized {
		t.Fatalf("GET /v2/ with a wrong password: %d, want 401", code)
	}
	req.SetBasicAuth("alice", "s3cret")
	if code, _ := get(t, req); code != http.StatusOK {
		t.Fatalf("GET /v2/ with credentials: %d", code)
	}
	post, _ := http.NewRequest("POST", url+"/v2/a/blobs/uploads/", nil)
	post.SetBasicAuth("alice", "s3cret")
	if code, body := get(t, post); code != http.StatusMethodNotAllowed || !strings.Contains(body, "read-only") {
		t.Fatalf("push to a read-only server: %d %s", code, body)
	}
	h, _ := http.NewRequest("GET", url+"/healthz", nil)
	if code, body := get(t, h); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	m, _ := http.NewRequest("GET", url+"/metrics", nil)
	code, body := get(t, m)
	if code != http.StatusOK || !strings.Contains(body, `hoist_http_requests_total{method="GET",code="401"} 2`) ||
		!strings.Contains(body, "hoist_http_request_duration_seconds_bucket") {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	if err := stop(); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}
	if n := strings.Count(log.String(), "\n"); n < 5 || !strings.Contains(log.String(), `"GET /v2/" 200`) || !strings.Contains(log.String(), " alice ") {
		t.Fatalf("access log (%d lines):\n%s", n, log.String())
	}
}

// A request in flight when the context ends finishes within the grace
// period; Serve returns nil.
func TestGracefulShutdownLetsRequestsFinish(t *testing.T) {
	s, err := New(WithDriver(inmemory.New()), WithShutdownGrace(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	url, stop := start(t, s)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", url+"/v2/a/blobs/uploads/?digest=sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", pr)
	got := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- -1
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	pw.Write([]byte("hel"))
	// Wait until the upload is being served (two requests in flight: it
	// and the metrics request asking), then shut down, and wait until the
	// listener is closed: only then does the upload send its last bytes.
	waitFor(t, func() bool {
		m, _ := http.NewRequest("GET", url+"/metrics", nil)
		_, body := get(t, m)
		return strings.Contains(body, "hoist_http_requests_in_flight 2")
	})
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	waitFor(t, func() bool {
		c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	pw.Write([]byte("lo"))
	pw.Close()
	if code := <-got; code != http.StatusCreated {
		t.Fatalf("the upload in flight at shutdown got %d, want 201", code)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Serve after shutdown: %v", err)
	}
}

// waitFor polls cond for up to 30 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 30s")
}

func TestOptionErrors(t *testing.T) {
	for _, c := range []struct {
		opts []Option
		want string
	}{
		{nil, "exactly one of WithRoot, WithDriver and WithS3"},
		{[]Option{WithRoot("x"), WithClientCA("ca.crt")}, "need WithTLS"},
		{[]Option{WithRoot("x"), WithTLS("a", "")}, "both the certificate and the key"},
		{[]Option{WithRoot("x"), WithV1(true), WithHtpasswd("p")}, "give one or the other"},
		{[]Option{WithRoot("x"), WithHtpasswd(filepath.Join(t.TempDir(), "none"))}, "htpasswd file"},
	} {
		if _, err := New(c.opts...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%d options): %v, want an error containing %q", len(c.opts), err, c.want)
		}
	}
}

// A request body that stops moving ends after WithStallTimeout: the
// server gives up on the connection instead of holding it forever.
func TestStalledBodyEnds(t *testing.T) {
	s, err := New(WithDriver(inmemory.New()), WithStallTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	url, _ := start(t, s)
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /v2/a/blobs/uploads/?digest=sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel")
	// Send nothing more. The server must end the request on its own; the
	// 30 s bound only keeps a broken server from hanging the test.
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	b, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the stalled request was still open after 30 s (read %q)", b)
	}
	if strings.Contains(string(b), "201 Created") {
		t.Fatalf("a stalled, incomplete upload was accepted: %q", b)
	}
}
