package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// sample is one timed run of one tool on one case.
type sample struct {
	wall time.Duration // from start to exit, as the parent sees it
	cpu  time.Duration // user + system time of the child(ren)
	rss  int64         // peak resident set size in bytes (largest child for a floor)
	err  error         // the run failed or its result was wrong
}

// usage accumulates what exited children cost: CPU is summed, peak RSS is
// the largest single process's (processes in a floor run side by side, but
// each is a separate address space; the largest is what a user sees).
type usage struct {
	cpu time.Duration
	rss int64
}

func (u *usage) add(ps *os.ProcessState) {
	if ps == nil {
		return
	}
	u.cpu += ps.UserTime() + ps.SystemTime()
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		// Linux reports ru_maxrss in KiB.
		if b := int64(ru.Maxrss) * 1024; b > u.rss {
			u.rss = b
		}
	}
}

// proc describes one child process to run.
type proc struct {
	argv []string
	env  []string
	log  string // file that receives stdout and stderr
}

// measure runs p to completion and reports its wall time, CPU and peak RSS.
// A non-zero exit is an error that quotes the end of the child's output.
func measure(ctx context.Context, p proc) sample {
	cmd := exec.CommandContext(ctx, p.argv[0], p.argv[1:]...)
	cmd.Env = p.env
	out, err := os.Create(p.log)
	if err != nil {
		return sample{err: err}
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	err = cmd.Run()
	s := sample{wall: time.Since(start)}
	var u usage
	u.add(cmd.ProcessState)
	s.cpu, s.rss = u.cpu, u.rss
	if err != nil {
		s.err = fmt.Errorf("%s: %w: %s", commandLine(p.argv), err, logTail(p.log))
	}
	return s
}

// logTail returns the last non-empty lines of a log file, for errors.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return strings.Join(lines, " | ")
}

// commandLine renders argv for humans, quoting only what needs it.
func commandLine(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a == "" || strings.ContainsAny(a, " \t'\"$&|;<>*?") {
			b.WriteString("'" + strings.ReplaceAll(a, "'", `'\''`) + "'")
		} else {
			b.WriteString(a)
		}
	}
	return b.String()
}

// output runs a command untimed and returns its trimmed stdout; errors
// carry stderr. It is for setup and version queries.
func output(ctx context.Context, env []string, argv ...string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return "", fmt.Errorf("%s: %w: %s", commandLine(argv), err, msg)
	}
	return strings.TrimSpace(stdout.String()), nil
}
