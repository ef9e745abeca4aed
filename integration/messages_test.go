//go:build integration

package integration

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// connectProxy is an HTTPS proxy that tunnels every CONNECT, whatever host
// it names, to target on loopback: a name that is not loopback can then be
// tested without leaving the machine.
func connectProxy(t *testing.T, target string) string {
	t.Helper()
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		up, err := net.Dial("tcp", target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		wg.Add(2)
		go func() { defer wg.Done(); io.Copy(up, conn); up.Close() }()
		go func() { defer wg.Done(); io.Copy(conn, up); conn.Close() }()
	}))
	t.Cleanup(func() { srv.Close(); wg.Wait() })
	return srv.URL
}

// TestConnectionMessages checks what hoist says when it cannot talk to a
// registry at all: a refused connection is "unreachable", and a host that
// is not loopback and has no TLS gets the --insecure-registry hint.
func TestConnectionMessages(t *testing.T) {
	dir := t.TempDir()
	closed := "127.0.0.1:" + strconv.Itoa(testutil.FreePort(t))
	_, stderr, code := runHoist(t, nil, "pull", closed+"/app:v1", "oci:"+filepath.Join(dir, "a"))
	if code != 1 || !strings.Contains(stderr, closed+" is unreachable") || strings.Contains(stderr, "neither") {
		t.Errorf("pull from a closed port: exit %d: %s", code, stderr)
	}

	reg := testutil.DockerRegistry(t)
	env := []string{"HTTPS_PROXY=" + connectProxy(t, reg), "https_proxy=", "NO_PROXY=", "no_proxy="}
	_, stderr, code = runHoist(t, env, "pull", "registry.example.com:5000/app:v1", "oci:"+filepath.Join(dir, "b"))
	if code != 1 || !strings.Contains(stderr, "--insecure-registry registry.example.com:5000") || strings.Contains(stderr, "hosts.Config") {
		t.Errorf("pull from an http-only host that is not loopback: exit %d: %s", code, stderr)
	}
	t.Logf("http-only host: %s", stderr)
}
