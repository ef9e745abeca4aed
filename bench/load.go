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
	cpus    int           // processors /proc/stat counts (0: unread)
}

// loadNow reads the machine's busy time from /proc/stat and the CPU time
// of the registries whose PIDs are given (0s are skipped); what cannot be
// read counts as 0.
func loadNow(pids ...int) load {
	var l load
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			// cpu user nice system idle iowait irq softirq steal ...
			// (the sum of every processor), then cpu0, cpu1, ...
			f := strings.Fields(line)
			switch {
			case len(f) > 8 && f[0] == "cpu":
				var ticks int64
				for _, i := range []int{1, 2, 3, 6, 7, 8} {
					n, _ := strconv.ParseInt(f[i], 10, 64)
					ticks += n
				}
				l.busy = ticksToDuration(ticks)
			case len(f) > 0 && strings.HasPrefix(f[0], "cpu"):
				l.cpus++
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
	return load{busy: l.busy - before.busy, servers: l.servers - before.servers, cpus: l.cpus}
}

// busyShare is how much of the machine's CPU l, spent over wall, kept
// busy, from 0 to 1: of the processors /proc/stat sums, which may be more
// than this process may run on (runtime.NumCPU, the fallback).
func (l load) busyShare(wall time.Duration) float64 {
	n := l.cpus
	if n == 0 {
		n = runtime.NumCPU()
	}
	if wall <= 0 {
		return 0
	}
	return float64(l.busy) / (float64(wall) * float64(n))
}

// ticksToDuration converts a count of /proc's clock ticks (USER_HZ); it
// holds up to 9.2e11 ticks, some 290 years of 100 busy processors.
func ticksToDuration(ticks int64) time.Duration {
	return time.Duration(ticks) * (time.Second / clockTicks)
}
