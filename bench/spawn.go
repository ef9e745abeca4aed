package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// spawnFlag makes this program a minimal stand-in for GNU time: run the
// command after "--", then write its peak RSS in KiB to a file. It is used
// only where /usr/bin/time is missing. Its own high-water mark (a freshly
// started Go program, a few MiB) is folded into the child's at exec (see
// usage.add), so peaks below that read as that; every tool measured here
// peaks well above it.
const spawnFlag = "-rss-spawn"

// runSpawner implements spawnFlag: args are STATFILE -- ARGV...
func runSpawner(args []string) int {
	if len(args) < 3 || args[1] != "--" {
		fmt.Fprintln(os.Stderr, "usage: bench", spawnFlag, "STATFILE -- COMMAND [ARG...]")
		return 2
	}
	cmd := exec.Command(args[2], args[3:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 127
	}
	var kib int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		kib = int64(ru.Maxrss)
	}
	if err := os.WriteFile(args[0], []byte(fmt.Sprintf("%d\n", kib)), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	return code
}

// chooseRSSWrapper uses GNU time when it works, else this program's own
// spawner, and says which in the report.
func chooseRSSWrapper() (string, error) {
	if err := exec.Command(timeBin, "-f", "%M", "-o", os.DevNull, "true").Run(); err == nil {
		return "GNU time %M", nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("no %s and cannot find this program to measure peak RSS: %w", timeBin, err)
	}
	timeWrapper = func(statFile string, argv []string) []string {
		return append([]string{self, spawnFlag, statFile, "--"}, argv...)
	}
	return "bench's own spawner (no GNU time; apt-get install time for exact peaks below ~5 MiB)", nil
}
