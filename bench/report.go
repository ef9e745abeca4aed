package main

import (
	"fmt"
	"strings"
)

// toolNotes say how each tool was run, for the table's readers.
var toolNotes = map[string]string{
	"hoist":  "default --concurrency; fresh XDG_CACHE_HOME (blob-location cache) every run",
	"crane":  "defaults (-j 4 for pull/push/copy)",
	"regctl": "defaults; `--host reg=…,tls=disabled`; `repo copy` for all tags",
	"skopeo": "defaults; blob-info cache cleared before full-transfer runs; `sync` for all tags",
	"oras":   "defaults (concurrency 3); `oras cp`",
	"floor":  "curl, every blob at once, no hashing (see README)",
}

func renderHeader(b *strings.Builder, e envInfo) {
	fmt.Fprintf(b, "- Command: `%s`\n", e.command)
	fmt.Fprintf(b, "- Date: %s\n", e.date)
	fmt.Fprintf(b, "- Machine: %s\n", e.machine)
	fmt.Fprintf(b, "- Versions: %s\n", strings.Join(e.versions, ", "))
}

// renderResults renders the cases as Markdown: a targets summary, then one
// table per case.
func renderResults(e envInfo, h *harness, results []caseResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Results (%s)\n\n", h.scale())
	renderHeader(&b, e)
	fmt.Fprintf(&b, "- Peak RSS measured with %s\n", h.rssMethod)
	fmt.Fprintf(&b, "- Runs: %d timed run(s) per tool and case, interleaved (the first tool rotates each run); medians shown\n", h.cfg.runs)
	big := h.fx.big
	var layers []string
	for i, bl := range big.blobs[1:] {
		what := "?"
		if i < len(h.specs.big) {
			what = describeLayer(h.specs.big[i])
		}
		layers = append(layers, fmt.Sprintf("%.1f MiB %s", float64(bl.size)/mib, what))
	}
	fmt.Fprintf(&b, "- Big image: %d layers, %.1f MiB compressed, OCI media types, digest `%s`; layers: %s\n",
		len(big.blobs)-1, float64(big.size())/mib, big.digest, strings.Join(layers, ", "))
	unique := uniqueBlobs(h.fx.tags)
	var uniq int64
	for _, bl := range unique {
		uniq += bl.size
	}
	if len(h.fx.tags) > 0 {
		fmt.Fprintf(&b, "- Tags repository: %d tags sharing a %.1f MiB base layer, each with its own small layer; %d unique blobs, %.1f MiB in all\n",
			len(h.fx.tags), float64(h.fx.tags[0].blobs[1].size)/mib, len(unique), float64(uniq)/mib)
	}
	b.WriteString("\n### Targets\n\n")
	b.WriteString("hoist against the fastest peer and the floor in the same run (pull, push, copy: ≤ 0.85× the fastest peer and ≤ 1.15× the floor; copy --all-tags: ≤ 0.7× the fastest peer; every case: peak RSS ≤ the lowest peer's).\n\n")
	b.WriteString("| case | hoist | fastest peer | hoist ÷ peer | hoist ÷ floor | hoist RSS | lowest peer RSS | verdict |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range results {
		v, ok := judge(r.c, r.stats())
		if !ok {
			fmt.Fprintf(&b, "| %s | failed or not run | | | | | | missed |\n", r.c.name)
			continue
		}
		peer, floorR := "–", "–"
		if v.fastest.name != "" {
			peer = fmt.Sprintf("%s (%s)", secs(v.fastest.median), v.fastest.name)
		}
		pr := "–"
		if v.peerRatio > 0 {
			pr = fmt.Sprintf("%.2f× (≤ %.2f×)", v.peerRatio, r.c.peerTarget)
		}
		if v.floorRatio > 0 {
			floorR = fmt.Sprintf("%.2f×", v.floorRatio)
			if r.c.floorTarget > 0 {
				floorR += fmt.Sprintf(" (≤ %.2f×)", r.c.floorTarget)
			}
		}
		low := "–"
		if v.lowestRSS.name != "" {
			low = fmt.Sprintf("%s (%s)", mibs(v.lowestRSS.rss), v.lowestRSS.name)
		}
		verdictText := "**met**"
		if len(v.missed) > 0 {
			verdictText = "**missed**: " + strings.Join(v.missed, "; ")
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.c.name, secs(v.hoist.median), peer, pr, floorR, mibs(v.hoist.rss), low, verdictText)
	}
	for _, r := range results {
		renderCase(&b, r)
	}
	b.WriteString("\n### How each tool ran\n\n")
	for _, n := range []string{"hoist", "crane", "regctl", "skopeo", "oras", "floor"} {
		fmt.Fprintf(&b, "- %s: %s\n", n, toolNotes[n])
	}
	return b.String()
}

func renderCase(b *strings.Builder, r caseResult) {
	fmt.Fprintf(b, "\n### %s: %s\n\n%s.", r.c.name, r.c.title, capitalize(r.c.what))
	if r.c.fresh {
		b.WriteString(" Empty target for every run.")
	}
	if r.c.warmup {
		b.WriteString(" One untimed warm-up run per tool first (skopeo mounts only what its blob-info cache has seen).")
	}
	b.WriteString("\n\n| tool | median | min – max | peak RSS | CPU (user+sys) | ÷ hoist | ÷ floor | |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---|\n")
	stats := r.stats()
	var hoist, floor stat
	for _, s := range stats {
		if s.ok() && s.name == "hoist" {
			hoist = s
		}
		if s.ok() && s.name == floorName {
			floor = s
		}
	}
	for _, s := range stats {
		switch {
		case s.na != "":
			fmt.Fprintf(b, "| %s | N/A | | | | | | %s |\n", s.name, s.na)
			continue
		case !s.ok():
			msg := "no runs"
			if len(s.failed) > 0 {
				msg = fmt.Sprintf("failed %d of %d runs: %s", len(s.failed), s.runs, oneLine(s.failed[0].Error()))
			}
			fmt.Fprintf(b, "| %s | failed | | | | | | %s |\n", s.name, msg)
			continue
		}
		vsHoist, vsFloor := "–", "–"
		if hoist.name != "" {
			vsHoist = fmt.Sprintf("%.2f", ratio(s.median, hoist.median))
		}
		if floor.name != "" {
			vsFloor = fmt.Sprintf("%.2f", ratio(s.median, floor.median))
		}
		fmt.Fprintf(b, "| %s | %s | %s – %s | %s | %s | %s | %s | |\n",
			s.name, secs(s.median), secs(s.min), secs(s.max), mibs(s.rss), secs(s.cpu), vsHoist, vsFloor)
	}
}

// describeLayer says what a generated layer holds, for the report.
func describeLayer(s layerSpec) string {
	switch s.kind {
	case kindRandom:
		return "random"
	case kindText:
		return fmt.Sprintf("text (%d files)", s.files)
	}
	return fmt.Sprintf("%d small files", s.files)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// oneLine keeps an error readable inside a table cell.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
