package main

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// tally counts outcomes.
type tally map[string]int

func (t tally) runs() int { return t[success] + t[cleanFail] + t[corruption] + t[hang] }

func (t tally) cells() string {
	n := t.runs()
	pct := 0.0
	if n > 0 {
		pct = 100 * float64(t[success]) / float64(n)
	}
	return fmt.Sprintf("%d | %d (%.1f%%) | %d | %d | %d", n, t[success], pct, t[cleanFail], t[corruption], t[hang])
}

// faultReport renders the fault campaign's results as Markdown: one table
// per client and operation, then the runs that did not succeed.
func faultReport(results []result, seeds string, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Fault campaign: seeds %s, %d runs, %s.\n\n", seeds, len(results), took.Round(time.Second))
	b.WriteString("| client | operation | runs | success | clean failure | corruption | hang |\n|---|---|---|---|---|---|---|\n")
	byClient := map[string]map[string]tally{}
	var clients []string
	for _, r := range results {
		if r.outcome == notRun {
			continue
		}
		if byClient[r.client] == nil {
			byClient[r.client] = map[string]tally{}
			clients = append(clients, r.client)
		}
		for _, k := range []string{r.plan.op, "all"} {
			if byClient[r.client][k] == nil {
				byClient[r.client][k] = tally{}
			}
			byClient[r.client][k][r.outcome]++
		}
	}
	for _, c := range clients {
		for _, op := range append(operations, "all") {
			if t := byClient[c][op]; t != nil {
				name := op
				if op == "all" {
					name = "**all**"
				}
				fmt.Fprintf(&b, "| %s | %s | %s |\n", c, name, t.cells())
			}
		}
	}
	var bad []result
	for _, r := range results {
		if r.outcome != success && r.outcome != notRun {
			bad = append(bad, r)
		}
	}
	sort.Slice(bad, func(i, j int) bool {
		if bad[i].client != bad[j].client {
			return bad[i].client < bad[j].client
		}
		return bad[i].plan.seed < bad[j].plan.seed
	})
	if len(bad) > 0 {
		b.WriteString("\nRuns that did not succeed:\n\n| client | seed | run | faults | outcome | error |\n|---|---|---|---|---|---|\n")
		for _, r := range bad {
			fmt.Fprintf(&b, "| %s | %d | %s %s, %s | %s | %s | %s |\n", r.client, r.plan.seed, r.plan.op, r.plan.image.name, r.plan.where(),
				cell(strings.Join(r.struck, "; ")), r.outcome, cell(r.err))
		}
	}
	return b.String()
}

func cell(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "|", "/"), "\n", " ")
	if len(s) > 220 {
		s = s[:220] + "…"
	}
	return s
}
