package main

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// load is what the machine and the registries had spent on the CPU at
// one moment; a run's share is the difference of two (since). It shows
// whether a case is bound by the CPU all processes share: the tool, the
// registries, toxiproxy and the counting proxies (in this process).
type load struct {
	busy    time.Duration // every processor, not idle nor waiting for I/O
	servers time.Duration // the registries' processes
}

// loadNow reads the machine's busy time from /proc/stat and the CPU time
// of the registries whose PIDs are given (0s are skipped); what cannot be
// read counts as 0.
func loadNow(pids ...int) load {
	var l load
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		// cpu user nice system idle iowait irq softirq steal ...
		f := strings.Fields(line)
		if len(f) > 8 && f[0] == "cpu" {
			for _, i := range []int{1, 2, 3, 6, 7, 8} {
				n, _ := strconv.ParseInt(f[i], 10, 64)
				l.busy += time.Duration(n) * time.Second / clockTicks
			}
		}
	}
	for _, pid := range pids {
		l.servers += cpuOf(pid)
	}
	return l
}

// since is what was spent between before and l.
func (l load) since(before load) load {
	return load{busy: l.busy - before.busy, servers: l.servers - before.servers}
}

// busyShare is how much of the machine's CPU a run of wall kept busy,
// from 0 to 1.
func busyShare(busy, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return float64(busy) / (float64(wall) * float64(runtime.NumCPU()))
}

// pid is the PID of a registry's process; 0 for none.
func (r *registry) pid() int {
	if r == nil || r.proc == nil || r.proc.cmd.Process == nil {
		return 0
	}
	return r.proc.cmd.Process.Pid
}
