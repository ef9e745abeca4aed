package main

import (
	"fmt"
	"slices"
	"time"
)

// caseResult is every sample of one case.
type caseResult struct {
	c       benchCase
	profile profile
	link    linkParams
	floor   modelFloor          // computed from link
	order   []string            // table order: the tools, then the floor
	na      map[string]string   // tool -> why it cannot do this case
	samples map[string][]sample // tool -> its runs
}

// stat summarises one tool's runs of a case.
type stat struct {
	name     string
	na       string
	runs     int
	failed   []error
	median   time.Duration
	min, max time.Duration
	cpu      time.Duration // median
	rss      int64         // largest peak over the runs
	servers  time.Duration // median CPU of the registries during a run
	busy     float64       // median share of the machine's CPU in use during a run
}

// ok says whether the tool has timings to compare: it ran, and every run
// succeeded.
func (s stat) ok() bool { return s.na == "" && s.runs > 0 && len(s.failed) == 0 }

func summarize(name string, samples []sample) stat {
	st := stat{name: name, runs: len(samples)}
	var walls, cpus, servers []time.Duration
	var busy []float64
	for _, s := range samples {
		if s.err != nil {
			st.failed = append(st.failed, s.err)
			continue
		}
		walls = append(walls, s.wall)
		cpus = append(cpus, s.cpu)
		servers = append(servers, s.load.servers)
		busy = append(busy, s.load.busyShare(s.wall))
		st.rss = max(st.rss, s.rss)
	}
	if len(walls) > 0 {
		st.median, st.min, st.max = median(walls), slices.Min(walls), slices.Max(walls)
		st.cpu, st.servers = median(cpus), median(servers)
		st.busy = median(busy)
	}
	return st
}

// median of durations or shares: the mean of the middle two for an even
// count, 0 for none.
func median[T time.Duration | float64](d []T) T {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func (r caseResult) stats() []stat {
	var out []stat
	for _, name := range r.order {
		if na, ok := r.na[name]; ok {
			out = append(out, stat{name: name, na: na})
			continue
		}
		out = append(out, summarize(name, r.samples[name]))
	}
	return out
}

// failures lists every failed run, for the exit status.
func (r caseResult) failures() []string {
	var out []string
	for _, st := range r.stats() {
		for _, e := range st.failed {
			out = append(out, fmt.Sprintf("%s, %s: %v", r.c.name, st.name, e))
		}
	}
	return out
}

// verdict is how hoist did against the targets in one case.
type verdict struct {
	hoist, fastest, floor stat // fastest peer by median; zero when absent
	lowestRSS             stat // peer with the lowest peak RSS
	peerRatio, floorRatio float64
	met                   []string
	missed                []string
}

// judge compares hoist with the peers and the floor of one case.
func judge(c benchCase, stats []stat) (verdict, bool) {
	var v verdict
	haveHoist := false
	for _, s := range stats {
		switch {
		case !s.ok():
		case s.name == "hoist":
			v.hoist, haveHoist = s, true
		case isFloor(s.name):
			if s.name == floorName {
				v.floor = s
			}
		default:
			if v.fastest.name == "" || s.median < v.fastest.median {
				v.fastest = s
			}
			if v.lowestRSS.name == "" || s.rss < v.lowestRSS.rss {
				v.lowestRSS = s
			}
		}
	}
	if !haveHoist {
		return v, false
	}
	check := func(ok bool, msg string) {
		if ok {
			v.met = append(v.met, msg)
		} else {
			v.missed = append(v.missed, msg)
		}
	}
	if v.fastest.name != "" && c.peerTarget > 0 {
		v.peerRatio = ratio(v.hoist.median, v.fastest.median)
		check(v.peerRatio <= c.peerTarget, fmt.Sprintf("time %.2f× fastest peer (%s; target ≤ %.2f×)", v.peerRatio, v.fastest.name, c.peerTarget))
	}
	if v.floor.name != "" {
		v.floorRatio = ratio(v.hoist.median, v.floor.median)
		if c.floorTarget > 0 {
			check(v.floorRatio <= c.floorTarget, fmt.Sprintf("time %.2f× floor (target ≤ %.2f×)", v.floorRatio, c.floorTarget))
		}
	}
	if v.lowestRSS.name != "" {
		check(v.hoist.rss <= v.lowestRSS.rss, fmt.Sprintf("peak RSS %s vs lowest peer %s (%s)", mibs(v.hoist.rss), mibs(v.lowestRSS.rss), v.lowestRSS.name))
	}
	return v, true
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func mibs(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/mib) }

func secs(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}
