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

	"floor-ranged": "curl, the big image's bytes split into -ranges equal slices, one connection each, ranged GETs (see README)",
}

func renderHeader(b *strings.Builder, e envInfo) {
	fmt.Fprintf(b, "- Command: `%s`\n", e.command)
	fmt.Fprintf(b, "- Date: %s\n", e.date)
	fmt.Fprintf(b, "- Machine: %s\n", e.machine)
	fmt.Fprintf(b, "- Versions: %s\n", strings.Join(e.versions, ", "))
}

// renderResults renders the cases as Markdown: a targets summary, then one
// table per case.
func renderResults(e envInfo, h *harness, pr profileResult) string {
	results := pr.results
	var b strings.Builder
	if pr.prof.shaped() {
		fmt.Fprintf(&b, "## Results under the %s profile (%s)\n\n", pr.prof.name, h.scale())
	} else {
		fmt.Fprintf(&b, "## Results (%s)\n\n", h.scale())
	}
	renderHeader(&b, e)
	fmt.Fprintf(&b, "- Profile: %s — %s\n", pr.prof.name, pr.prof.what)
	if pr.prof.shaped() {
		fmt.Fprintf(&b, "- Link to the far registry, measured through the proxies: %s\n", pr.link)
		b.WriteString("- The far registry is the source (the target for push); a copy's second registry is near (loopback), reached through the counting proxy only\n")
	}
	fmt.Fprintf(&b, "- Peak RSS measured with %s\n", h.rssMethod)
	runs := 0
	if len(results) > 0 {
		for _, ss := range results[0].samples {
			runs = max(runs, len(ss))
		}
	}
	fmt.Fprintf(&b, "- Runs: %d timed run(s) per tool and case, interleaved (the first tool rotates each run); medians shown\n", runs)
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
	renderFloors(&b, h, pr)
	if pr.prof.shaped() {
		// The WAN targets are judged in their own section.
		for _, r := range results {
			renderCase(&b, r)
		}
		renderHowRan(&b, h)
		return b.String()
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
	renderHowRan(&b, h)
	return b.String()
}

func renderHowRan(b *strings.Builder, h *harness) {
	b.WriteString("\n### How each tool ran\n\n")
	for _, t := range h.tools {
		fmt.Fprintf(b, "- %s: %s\n", t.name, toolNotes[t.name])
	}
}

func renderCase(b *strings.Builder, r caseResult) {
	fmt.Fprintf(b, "\n### %s: %s\n\n%s.", r.c.name, r.c.title, capitalize(r.c.what))
	if r.c.fresh {
		b.WriteString(" Empty target for every run.")
	}
	if r.c.warmup {
		b.WriteString(" One untimed warm-up run per tool first (skopeo mounts only what its blob-info cache has seen).")
	}
	if r.profile.shaped() {
		f := r.floor
		fmt.Fprintf(b, " Computed floors: one connection per blob %s", secs(f.one))
		if f.ranged > 0 {
			fmt.Fprintf(b, ", split over %d ranged connections %s", r.link.n, secs(f.ranged))
		}
		fmt.Fprintf(b, " (R = %s: %s).", msText(r.link.rtt), f.how)
	}
	b.WriteString(" Registries' CPU is the CPU time of the registries the run talked to while it ran; machine busy is the share of all CPUs in use meanwhile (the tool, the registries, toxiproxy, the counting proxies), medians of the runs.")
	b.WriteString("\n\n| tool | median | min – max | peak RSS | CPU (user+sys) | registries' CPU | machine busy | ÷ hoist | ÷ floor | |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
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
			fmt.Fprintf(b, "| %s | N/A | | | | | | | | %s |\n", s.name, s.na)
			continue
		case !s.ok():
			msg := "no runs"
			if len(s.failed) > 0 {
				msg = fmt.Sprintf("failed %d of %d runs: %s", len(s.failed), s.runs, oneLine(s.failed[0].Error()))
			}
			fmt.Fprintf(b, "| %s | failed | | | | | | | | %s |\n", s.name, msg)
			continue
		}
		vsHoist, vsFloor := "–", "–"
		if hoist.name != "" {
			vsHoist = fmt.Sprintf("%.2f", ratio(s.median, hoist.median))
		}
		if floor.name != "" {
			vsFloor = fmt.Sprintf("%.2f", ratio(s.median, floor.median))
		}
		fmt.Fprintf(b, "| %s | %s | %s – %s | %s | %s | %s | %.0f%% | %s | %s | |\n",
			s.name, secs(s.median), secs(s.min), secs(s.max), mibs(s.rss), secs(s.cpu), secs(s.servers), 100*s.busy, vsHoist, vsFloor)
	}
	renderRequests(b, r)
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

// renderFloors writes the profile's summary: every tool's median per case
// with the measured and the computed floors beside it.
func renderFloors(b *strings.Builder, h *harness, pr profileResult) {
	if len(pr.results) == 0 {
		return
	}
	n := pr.link.n
	fmt.Fprintf(b, "\n### Summary with floors (%s)\n\nMedians. The computed floors come from the measured link above and the blob sizes (see bench/README.md); curl's are measured.\n\n", pr.prof.name)
	b.WriteString("| case |")
	for _, t := range h.tools {
		fmt.Fprintf(b, " %s |", t.name)
	}
	fmt.Fprintf(b, " computed: one connection per blob | computed: %d ranged connections |\n|---|", n)
	b.WriteString(strings.Repeat("---:|", len(h.tools)+2) + "\n")
	for _, r := range pr.results {
		fmt.Fprintf(b, "| %s |", r.c.name)
		for _, s := range r.stats() {
			cell := secs(s.median)
			switch {
			case s.na != "":
				cell = "N/A"
			case !s.ok():
				cell = "failed"
			}
			fmt.Fprintf(b, " %s |", cell)
		}
		ranged := "–"
		if r.floor.ranged > 0 {
			ranged = secs(r.floor.ranged)
		}
		fmt.Fprintf(b, " %s | %s |\n", secs(r.floor.one), ranged)
	}
}
