package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// sample is one timed run of one tool on one case.
type sample struct {
	wall time.Duration // from start to exit, as the parent sees it
	cpu  time.Duration // user + system time of the child(ren)
	rss  int64         // peak resident set size in bytes (largest child for a floor)
	err  error         // the run failed or its result was wrong
	// load is what the registries and the whole machine spent on the CPU
	// while the run went on (see load); zero where it was not measured.
	load load
	// requests the run sent, by registry side (under a shaped profile).
	requests runCounts
}

// usage accumulates what exited children cost: CPU is summed, peak RSS is
// the largest single process's (processes in a floor run side by side, but
// each is a separate address space; the largest is what a user sees).
type usage struct {
	cpu time.Duration
	rss int64
}

// add records one child that ran under timeWrap: CPU from its process
// state (the wrapper's wait4 includes the child it waited for), peak RSS
// from the wrapper's report.
//
// The peak RSS cannot come from ProcessState.SysUsage: Go starts children
// with clone(CLONE_VM|CLONE_VFORK), and at execve Linux folds the old
// address space's high-water mark (the parent's, shared through CLONE_VM)
// into the child's ru_maxrss. A child of a 64 MiB parent then reports at
// least 64 MiB even if it is /bin/true. GNU time fork()s its child from a
// ~1 MiB process, so its %M is the child's own peak.
func (u *usage) add(ps *os.ProcessState, statFile string) error {
	if ps != nil {
		u.cpu += ps.UserTime() + ps.SystemTime()
	}
	rss, err := readPeakRSS(statFile)
	if err != nil {
		return err
	}
	u.rss = max(u.rss, rss)
	return nil
}

// timeBin is GNU time, which reports a child's peak RSS exactly.
var timeBin = "/usr/bin/time"

// timeWrap returns argv run under GNU time (or the fallback
// chooseRSSWrapper picked), which writes the child's peak RSS in KiB as the
// last line of statFile.
func timeWrap(statFile string, argv []string) []string { return timeWrapper(statFile, argv) }

var timeWrapper = func(statFile string, argv []string) []string {
	return append([]string{timeBin, "-f", "%M", "-o", statFile, "--"}, argv...)
}

// readPeakRSS reads the peak RSS GNU time wrote (in KiB) and returns bytes.
// When the child failed, time writes a "Command exited" line first.
func readPeakRSS(statFile string) (int64, error) {
	b, err := os.ReadFile(statFile)
	if err != nil {
		return 0, fmt.Errorf("read the peak RSS GNU time wrote: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	kib, err := strconv.ParseInt(strings.TrimSpace(lines[len(lines)-1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: no peak RSS in %q", statFile, b)
	}
	return kib * 1024, nil
}

// proc describes one child process to run.
type proc struct {
	argv []string
	env  []string
	log  string // file that receives stderr, and stdout unless stdout is set
	// stdout, if set, is the file that receives stdout alone.
	stdout string
}

// measure runs p to completion and reports its wall time, CPU and peak RSS.
// A non-zero exit is an error that quotes the end of the child's output.
func measure(ctx context.Context, p proc) sample {
	statFile := p.log + ".rss"
	argv := timeWrap(statFile, p.argv)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = p.env
	out, err := os.Create(p.log)
	if err != nil {
		return sample{err: err}
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if p.stdout != "" {
		f, err := os.Create(p.stdout)
		if err != nil {
			return sample{err: err}
		}
		defer f.Close()
		cmd.Stdout = f
	}
	start := time.Now()
	err = cmd.Run()
	s := sample{wall: time.Since(start)}
	var u usage
	uerr := u.add(cmd.ProcessState, statFile)
	s.cpu, s.rss = u.cpu, u.rss
	if err != nil {
		s.err = fmt.Errorf("%s: %w: %s", commandLine(p.argv), err, logTail(p.log))
	} else if uerr != nil {
		s.err = uerr
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
