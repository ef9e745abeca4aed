package main

import (
	"context"
	"fmt"
	"path/filepath"
)

// profileResult is every case run under one profile.
type profileResult struct {
	prof    profile
	link    linkParams
	results []caseResult
}

// runProfile puts the source registry behind p, measures the link the
// tools then see, and runs the chosen cases. leaveProfile undoes it.
func (h *harness) runProfile(ctx context.Context, p profile) (profileResult, error) {
	h.prof = p
	pr := profileResult{prof: p}
	if p.shaped() && h.toxi == nil {
		t, err := startToxiproxy(ctx, h.bins.toxiproxy, filepath.Join(h.work, "toxiproxy"))
		if err != nil {
			return pr, err
		}
		h.toxi = t
	}
	var err error
	if h.srcEnd, err = h.expose(ctx, h.src.addr, true); err != nil {
		return pr, err
	}
	largest := h.fx.big.blobs[0]
	for _, b := range h.fx.big.blobs {
		if b.size > largest.size {
			largest = b
		}
	}
	if h.link, err = measureLink(ctx, h.srcEnd.addr, bigRepo, largest, h.cfg.ranges, p.rate > 0); err != nil {
		return pr, fmt.Errorf("measure the %s link: %w", p.name, err)
	}
	pr.link = h.link
	h.logf("profile %s: %s; measured %s", p.name, p.what, h.link)
	for _, c := range allCases {
		if !contains(h.cfg.cases, c.name) {
			continue
		}
		pr.results = append(pr.results, h.runCase(ctx, c))
		if ctx.Err() != nil {
			return pr, ctx.Err()
		}
	}
	return pr, nil
}

// leaveProfile removes the source's proxies.
func (h *harness) leaveProfile(ctx context.Context) {
	h.srcEnd.close(ctx)
	h.srcEnd = nil
}

// resultsSection names a profile's section of the results file; loopback
// keeps the name it always had.
func resultsSection(p profile) string {
	if !p.shaped() {
		return "results"
	}
	return "results-" + p.name
}

func shapedIn(all []profileResult) bool {
	for _, pr := range all {
		if pr.prof.shaped() {
			return true
		}
	}
	return false
}
