package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// registry is a docker-registry process this program started.
type registry struct {
	addr string // 127.0.0.1:PORT
	dir  string // config, data and log
	proc *child
}

// startRegistry starts Debian's docker-registry on a free loopback port,
// storing under dir/data, and waits until /v2/ answers. The caller stops it
// with stop. With accessLog, every request is logged to dir/registry.log
// (useful to see what a tool sent; it costs the registry some CPU).
func startRegistry(ctx context.Context, bin, dir string, accessLog bool) (*registry, error) {
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	conf := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: %t
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: %s
http:
  addr: %s
  secret: hoist-bench
`, !accessLog, filepath.Join(dir, "data"), addr)
	confPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, "serve", confPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	proc, err := startChild(cmd)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w (install it with apt-get install docker-registry)", bin, err)
	}
	r := &registry{addr: addr, dir: dir, proc: proc}
	if err := r.waitReady(ctx); err != nil {
		r.stop()
		return nil, err
	}
	return r, nil
}

func (r *registry) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(15 * time.Second)
	url := "http://" + r.addr + "/v2/"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if done, err := r.proc.exited(); done {
			return fmt.Errorf("docker-registry on %s exited: %v; see %s", r.addr, err, filepath.Join(r.dir, "registry.log"))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("docker-registry did not answer on %s within 15s; see %s", r.addr, filepath.Join(r.dir, "registry.log"))
		}
	}
}

// stop ends the registry by its PID. It is safe to call twice, and on nil.
func (r *registry) stop() {
	if r != nil {
		r.proc.stop()
	}
}

// pid is the PID of a registry's process; 0 for none.
func (r *registry) pid() int {
	if r == nil || r.proc == nil || r.proc.cmd.Process == nil {
		return 0
	}
	return r.proc.cmd.Process.Pid
}

// stopAndRemove stops the registry and deletes its directory.
func (r *registry) stopAndRemove() error {
	r.stop()
	return os.RemoveAll(r.dir)
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before the registry binds; the registry then fails to start and
// says so.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	a, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("listener has no TCP address")
	}
	return a.Port, nil
}
