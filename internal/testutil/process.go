package testutil

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// NeedBinary returns the path of an external program a test depends on. When
// it is missing the test fails under CI (CI set in the environment, as
// .ci/run sets it) and is skipped elsewhere, with the install hint either way.
func NeedBinary(t testing.TB, name, installHint string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s is not installed (%s)", name, installHint)
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI must install it")
	}
	t.Skip(msg)
	return ""
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// LockedBuffer collects a process's output for a failure message; it is
// safe for the several goroutines of os/exec to write at once.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p under the lock; it never fails.
func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was written so far.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// StartProcess starts name with args, waits until 127.0.0.1:port accepts
// connections, and stops the process (by its PID) when the test ends. Its
// output is shown if it fails to come up.
func StartProcess(t testing.TB, port int, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	out := &LockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so the cleanup stops its children too (nginx's
	// workers), and a bounded wait for the output pipes they may hold.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return cmd
		}
		select {
		case <-done:
			t.Fatalf("%s exited before listening on %s:\n%s", name, addr, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s within 15s:\n%s", name, addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// DockerRegistry starts Debian's docker-registry (distribution 2.8) as a
// separate process on 127.0.0.1, storing under a temporary directory, and
// returns its host:port.
func DockerRegistry(t testing.TB) string {
	t.Helper()
	return DockerRegistryWith(t, "")
}

// DockerRegistryWith is DockerRegistry with extra top-level sections of
// its YAML configuration (an auth: section, say) appended.
func DockerRegistryWith(t testing.TB, extraYAML string) string {
	t.Helper()
	bin := NeedBinary(t, "docker-registry", "apt-get install docker-registry")
	port := FreePort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "config.yml")
	y := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: 127.0.0.1:%d
  secret: hoist-test
`, filepath.Join(dir, "data"), port) + extraYAML
	if err := os.WriteFile(conf, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	StartProcess(t, port, bin, "serve", conf)
	return "127.0.0.1:" + strconv.Itoa(port)
}

// Run runs the program name with args and returns its standard output,
// failing the test with its standard error when it fails.
func Run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return out
}
