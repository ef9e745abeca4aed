package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// sweepResult is hoist alone at each concurrency on pull and copy.
type sweepResult struct {
	concurrencies []int
	runs          int
	pull, copy    map[int][]sample
}

// runSweep times hoist at every -concurrencies value on the pull and the
// full-copy cases, interleaving the values run by run.
func (h *harness) runSweep(ctx context.Context) (*sweepResult, error) {
	hoist := h.toolNamed("hoist")
	if hoist == nil {
		return nil, fmt.Errorf("-sweep times hoist; -tools leaves it out")
	}
	res := &sweepResult{concurrencies: h.cfg.concurrencies, runs: h.cfg.sweepRuns,
		pull: map[int][]sample{}, copy: map[int][]sample{}}
	for i := range h.cfg.sweepRuns {
		for _, c := range allCases {
			if c.name != casePull && c.name != caseCopy {
				continue
			}
			for _, n := range h.cfg.concurrencies {
				s := h.once(ctx, c, hoist, fmt.Sprintf("sweep%d", i+1), n)
				h.progress(c, fmt.Sprintf("c=%d %d/%d", n, i+1, h.cfg.sweepRuns), hoist, s)
				if c.name == casePull {
					res.pull[n] = append(res.pull[n], s)
				} else {
					res.copy[n] = append(res.copy[n], s)
				}
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
			}
		}
	}
	return res, nil
}

func (h *harness) toolNamed(name string) *tool {
	for _, t := range h.tools {
		if t.name == name {
			return t
		}
	}
	return nil
}

func (r *sweepResult) failures() []string {
	var out []string
	for _, m := range []map[int][]sample{r.pull, r.copy} {
		for n, ss := range m {
			for _, s := range ss {
				if s.err != nil {
					out = append(out, fmt.Sprintf("sweep --concurrency %d: %v", n, s.err))
				}
			}
		}
	}
	return out
}

// best returns the concurrency with the lowest median in m.
func (r *sweepResult) best(m map[int][]sample) int {
	best, bestT := 0, time.Duration(0)
	for _, n := range r.concurrencies {
		st := summarize("", m[n])
		if len(st.failed) > 0 || st.runs == 0 {
			continue
		}
		if best == 0 || st.median < bestT {
			best, bestT = n, st.median
		}
	}
	return best
}

func renderSweep(e envInfo, r *sweepResult) string {
	var b strings.Builder
	b.WriteString("## Concurrency sweep (hoist alone)\n\n")
	renderHeader(&b, e)
	fmt.Fprintf(&b, "- Runs: %d per value, interleaved; medians shown. hoist's current default: %s\n\n", r.runs, e.defaultConc)
	b.WriteString("| --concurrency | pull | pull min – max | pull RSS | copy to a second registry | copy min – max | copy RSS |\n|---:|---:|---:|---:|---:|---:|---:|\n")
	bp, bc := r.best(r.pull), r.best(r.copy)
	cell := func(ss []sample, best bool) (string, string, string) {
		st := summarize("", ss)
		if st.runs == 0 {
			return "–", "–", "–"
		}
		if len(st.failed) > 0 {
			return "failed", "–", "–"
		}
		t := secs(st.median)
		if best {
			t = "**" + t + "**"
		}
		return t, secs(st.min) + " – " + secs(st.max), mibs(st.rss)
	}
	for _, n := range r.concurrencies {
		pt, pm, pr := cell(r.pull[n], n == bp)
		ct, cm, cr := cell(r.copy[n], n == bc)
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s |\n", n, pt, pm, pr, ct, cm, cr)
	}
	fmt.Fprintf(&b, "\nFastest median: pull at %d, copy at %d (bold). Differences smaller than the min – max spread are noise.\n", bp, bc)
	return b.String()
}
