package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// wanTarget is one row of the targets: hoist's median on a case
// under a profile at most peer times the fastest peer's.
type wanTarget struct {
	c    caseName
	prof string
	peer float64
}

// wanTargets are the time targets of the WAN issue, in its order.
var wanTargets = []wanTarget{
	{casePull, "throttled", 0.35},
	{casePull, "slow", 0.35},
	{caseCopy, "throttled", 0.5},
	{caseIndex, "far", 1.0},
	{caseAllTags, "far", 0.6},
	{casePull, "lan", 0.9},
	{casePush, "lan", 0.9},
	{caseCopy, "lan", 0.9},
}

// rssSlack is how far over the lowest peer's peak RSS hoist may go.
const rssSlack = 2 * mib

// renderWANTargets judges the targets on what this invocation
// measured; a target whose case or profile was not run says so.
func renderWANTargets(e envInfo, h *harness, all []profileResult) string {
	var b strings.Builder
	b.WriteString("## Targets under the network profiles\n\n")
	renderHeader(&b, e)
	b.WriteString("\nhoist's median against the fastest peer's in the same run (ratios below 1 are faster). Peak RSS: hoist's at most the lowest peer's + 2 MiB, in every case under every profile measured.\n\n")
	b.WriteString("The last column is the best ratio the computed floors allow: the floor for n ranged connections (one connection per blob where nothing splits) ÷ the fastest peer. A target below it needs more than n connections, or less work than the floor's round trips.\n\n")
	b.WriteString("| case | profile | hoist | fastest peer | hoist ÷ peer | target | verdict | computed floor ÷ peer |\n|---|---|---:|---:|---:|---:|---|---:|\n")
	find := func(c caseName, prof string) (caseResult, bool) {
		for _, pr := range all {
			if pr.prof.name != prof {
				continue
			}
			for _, r := range pr.results {
				if r.c.name == c {
					return r, true
				}
			}
		}
		return caseResult{}, false
	}
	earlier, from := earlierTargets(h.cfg.out)
	for _, t := range wanTargets {
		r, ok := find(t.c, t.prof)
		if !ok {
			if row, ok := earlier[string(t.c)+"|"+t.prof]; ok {
				if !strings.Contains(row, "(from the run of") {
					f := strings.Split(row, " | ")
					f[6] += " " + from
					row = strings.Join(f, " | ")
				}
				b.WriteString(row + "\n")
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | | | | ≤ %.2f× | not measured in this run | |\n", t.c, t.prof, t.peer)
			continue
		}
		v, ok := judge(r.c, r.stats())
		if !ok || v.fastest.name == "" {
			fmt.Fprintf(&b, "| %s | %s | | | | ≤ %.2f× | **missed**: hoist or every peer failed | |\n", t.c, t.prof, t.peer)
			continue
		}
		pr := ratio(v.hoist.median, v.fastest.median)
		verdict := "**met**"
		if pr > t.peer {
			verdict = "**missed**"
		}
		best := r.floor.ranged
		if best == 0 {
			best = r.floor.one
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s (%s) | %.2f× | ≤ %.2f× | %s | %.2f× (%s) |\n",
			t.c, t.prof, secs(v.hoist.median), secs(v.fastest.median), v.fastest.name, pr, t.peer, verdict, ratio(best, v.fastest.median), secs(best))
	}
	var over []string
	checked := 0
	for _, pr := range all {
		for _, r := range pr.results {
			v, ok := judge(r.c, r.stats())
			if !ok || v.lowestRSS.name == "" {
				continue
			}
			checked++
			if v.hoist.rss > v.lowestRSS.rss+rssSlack {
				over = append(over, fmt.Sprintf("%s/%s %s vs %s (%s)", r.c.name, pr.prof.name, mibs(v.hoist.rss), mibs(v.lowestRSS.rss), v.lowestRSS.name))
			}
		}
	}
	verdict := "**met**"
	if len(over) > 0 {
		verdict = "**missed**: " + strings.Join(over, "; ")
	}
	fmt.Fprintf(&b, "| peak RSS, every case (%d measured) | all | | | | ≤ lowest peer + 2 MiB | %s | |\n", checked, verdict)
	return b.String()
}

// earlierTargets reads the targets section the results file at path
// holds, so that a run of some profiles keeps the rows of the others:
// each measured row keyed "case|profile" (a row an earlier run carried
// keeps the note it has), and a note naming the run of the section.
func earlierTargets(path string) (map[string]string, string) {
	old, err := os.ReadFile(path)
	if err != nil {
		return nil, ""
	}
	begin, end := sectionMarkers("targets")
	text := string(old)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		return nil, ""
	}
	text = text[i:j]
	from := "(an earlier run)"
	if m := regexp.MustCompile(`built from commit ([0-9a-f]+)`).FindStringSubmatch(text); m != nil {
		from = "(from the run of commit " + m[1] + ")"
		if d := regexp.MustCompile(`- Date: ([^\n]+)`).FindStringSubmatch(text); d != nil {
			from = "(from the run of commit " + m[1] + ", " + d[1] + ")"
		}
	}
	rows := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Split(line, " | ")
		if len(f) < 8 || !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| case |") || strings.Contains(line, "not measured in this run") {
			continue
		}
		rows[strings.TrimPrefix(f[0], "| ")+"|"+f[1]] = line
	}
	return rows, from
}
