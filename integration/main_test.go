//go:build integration

package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// hoistBin is the hoist binary built once for all tests.
var hoistBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hoist-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hoistBin = filepath.Join(dir, "hoist")
	// -buildvcs=auto: stamp the revision into --version where git can tell
	// it. hoist-serve beside hoist is what hoist serve runs.
	build := exec.Command("go", "build", "-buildvcs=auto", "-o", dir+"/", "../cmd/hoist", "../cmd/hoist-serve")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building hoist:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runHoist runs the hoist binary and returns stdout, stderr and the exit
// code. env entries are added to the test's environment.
func runHoist(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	return runHoistCmd(t, exec.Command(hoistBin, args...), env)
}

// runHoistIn is runHoist with stdin.
func runHoistIn(t *testing.T, stdin string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(hoistBin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	return runHoistCmd(t, cmd, env)
}

// runHoistCmd runs cmd, a hoist command, with env added to the test's
// environment, and returns its stdout, stderr and exit code.
func runHoistCmd(t *testing.T, cmd *exec.Cmd, env []string) (string, string, int) {
	t.Helper()
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}
