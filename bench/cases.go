package main

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// benchCase is one row group of the report.
type benchCase struct {
	name  caseName
	title string
	what  string
	// fresh: every run gets an empty target registry, and skopeo's
	// blob-info cache is cleared first, so everything is transferred.
	fresh bool
	// warmup: one untimed run per tool first (the mount case: skopeo
	// only mounts blobs its blob-info cache has seen).
	warmup bool
	// peerTarget: hoist's median must be at most this times the fastest
	// peer's. floorTarget: at most this times the floor's (0: no target).
	// Both are the loopback targets; the WAN ones are in wanTargets.
	peerTarget, floorTarget float64
	// remoteTarget: under a profile, the target registry is the one
	// behind the shaping (a push). Otherwise the source is, and a second
	// registry is near (a copy mirrors a far registry into a near one).
	remoteTarget bool
}

var allCases = []benchCase{
	{name: casePull, title: "pull to an OCI layout",
		what:  "the big image from the source registry into a fresh OCI layout directory",
		fresh: true, peerTarget: 0.85, floorTarget: 1.15},
	{name: casePush, title: "push of a layout",
		what:  "the big image from an OCI layout (written once by skopeo) to an empty registry",
		fresh: true, peerTarget: 0.85, floorTarget: 1.15, remoteTarget: true},
	{name: caseMount, title: "copy within one registry (mount)",
		what:   "the big image to a new repository of the same registry; blobs should be mounted, not moved",
		warmup: true, peerTarget: 0.85, floorTarget: 1.15},
	{name: caseCopy, title: "copy to a second registry",
		what:  "the big image to an empty second registry: every byte streams from one registry to the other",
		fresh: true, peerTarget: 0.85, floorTarget: 1.15},
	{name: caseAllTags, title: "copy --all-tags",
		what:  "every tag of the tags repository to an empty second registry",
		fresh: true, peerTarget: 0.7},
	{name: caseIndex, title: "manifest of an index",
		what: "the raw bytes of a 4-platform image index, printed to stdout (checked against its digest); one round trip is the floor"},
}

func caseNames() []string {
	var n []string
	for _, c := range allCases {
		n = append(n, string(c.name))
	}
	return n
}

func parseCases(s string) ([]caseName, error) {
	switch s {
	case "all":
		var all []caseName
		for _, c := range allCases {
			all = append(all, c.name)
		}
		return all, nil
	case "none", "":
		return nil, nil
	}
	var out []caseName
	for _, p := range strings.Split(s, ",") {
		n := caseName(strings.TrimSpace(p))
		if !contains(caseNames(), string(n)) {
			return nil, fmt.Errorf("-cases: unknown case %q (have %s)", n, strings.Join(caseNames(), ", "))
		}
		out = append(out, n)
	}
	return out, nil
}

// runCase times every tool and the floors on c, interleaving them run by
// run and rotating who goes first, so drift in the machine's state spreads
// over everyone.
func (h *harness) runCase(ctx context.Context, c benchCase) caseResult {
	res := caseResult{c: c, profile: h.prof, link: h.link, floor: computeFloor(c.name, h.link, h.fx), na: map[string]string{}, samples: map[string][]sample{}}
	var who []*tool
	for _, t := range h.tools {
		res.order = append(res.order, t.name)
		if _, na := t.args(c.name, run{}); na != "" {
			res.na[t.name] = na
			continue
		}
		who = append(who, t)
	}
	if c.warmup {
		for _, t := range who {
			s := h.once(ctx, c, t, "warmup", 0)
			h.progress(c, "warmup", t, s)
		}
	}
	runs := h.runs()
	for i := range runs {
		for j := range who {
			t := who[(i+j)%len(who)]
			label := fmt.Sprintf("run%d", i+1)
			s := h.once(ctx, c, t, label, 0)
			res.samples[t.name] = append(res.samples[t.name], s)
			h.progress(c, fmt.Sprintf("%d/%d", i+1, runs), t, s)
			if ctx.Err() != nil {
				return res
			}
		}
	}
	return res
}

func (h *harness) progress(c benchCase, label string, t *tool, s sample) {
	status := "ok"
	if s.err != nil {
		status = "FAILED: " + s.err.Error()
	}
	h.logf("%-9s %-14s %-7s %-12s %8.3fs %8s  %s", h.prof.name, c.name, label, t.name, s.wall.Seconds(), mibs(s.rss), status)
}

// once does one timed run of t on c under the current profile and checks
// its result. The run's directory is removed afterwards unless the run
// failed or -keep.
func (h *harness) once(ctx context.Context, c benchCase, t *tool, label string, concurrency int) sample {
	name := t.name
	if concurrency > 0 {
		name = fmt.Sprintf("%s-c%d", name, concurrency)
	}
	dir := filepath.Join(h.work, "runs", h.prof.name, string(c.name), name+"-"+label)
	if err := os.RemoveAll(dir); err != nil {
		return sample{err: err}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return sample{err: err}
	}
	src := h.srcEnd
	r := run{src: src.addr, dst: src.addr, out: filepath.Join(dir, "out"), layout: h.fx.layout, concurrency: concurrency}
	switch c.name {
	case casePush, caseCopy, caseReferrers:
		r.dstRepo = string(c.name) + "/" + name
	case caseMount:
		// Unique per profile too: a repository an earlier profile
		// filled would turn the copy into a no-op.
		r.dstRepo = "mount/" + name + "-" + label + "-" + h.prof.name + "-" + h.nonce
	case caseAllTags:
		r.dstRepo = "alltags/" + name + "/" + path.Base(tagsRepo)
	}
	// direct is r with the registries' own addresses, for checks the
	// harness makes (they go round the shaping and the counting).
	direct := r
	direct.src, direct.dst = src.direct, src.direct
	var dst *endpoint
	var reg *registry
	if c.fresh && c.name != casePull {
		var err error
		reg, err = startRegistry(ctx, h.bins.registry, filepath.Join(dir, "registry"), h.cfg.accessLog)
		if err != nil {
			return sample{err: err}
		}
		defer reg.stop()
		if dst, err = h.expose(ctx, reg.addr, c.remoteTarget); err != nil {
			return sample{err: err}
		}
		defer dst.close(ctx)
		r.dst, direct.dst = dst.addr, reg.addr
	}
	if c.fresh {
		if err := h.clearSkopeoCache(); err != nil {
			return sample{err: err}
		}
	}
	// Write back what earlier runs left dirty, so this run does not pay
	// for it.
	syscall.Sync()
	src.take() // drop what setup and earlier checks sent

	var s sample
	before := loadNow(h.src.pid(), reg.pid())
	if t.floor != nil {
		s = h.floorRun(ctx, filepath.Join(dir, "logs"), func(cu *curls) error { return t.floor(ctx, cu, h, c.name, r) })
	} else {
		args, _ := t.args(c.name, r)
		p := proc{argv: append([]string{t.bin}, args...), env: h.env(filepath.Join(dir, "cache")), log: filepath.Join(dir, "output.log")}
		if c.name == caseIndex {
			p.stdout = r.out
		}
		s = measure(ctx, p)
	}
	s.load = loadNow(h.src.pid(), reg.pid()).since(before)
	s.requests = runCounts{}
	srcSide := "source"
	if c.name == caseMount {
		srcSide = "registry"
	}
	if rc := src.take(); rc != nil {
		s.requests[srcSide] = rc
	}
	if rc := dst.take(); rc != nil {
		s.requests["target"] = rc
	}
	if s.err == nil {
		if err := h.verify(ctx, c, direct, t.floor != nil); err != nil {
			s.err = fmt.Errorf("%s finished but its result is wrong: %w", name, err)
		}
	}
	dst.close(ctx)
	reg.stop()
	if s.err == nil && !h.cfg.keep {
		_ = os.RemoveAll(dir)
	} else if s.err != nil {
		s.err = fmt.Errorf("%w (kept %s)", s.err, dir)
	}
	return s
}

// verify checks that a run produced the source image unchanged.
func (h *harness) verify(ctx context.Context, c benchCase, r run, floor bool) error {
	switch c.name {
	case casePull:
		if floor {
			return nil // floorPull checked its files
		}
		return verifyLayout(r.out, h.fx.big)
	case caseAllTags:
		return verifyAllTags(ctx, r.dst, r.dstRepo, h.fx.tags)
	case caseIndex:
		return verifyDigest(r.out, h.fx.index.digest)
	case caseReferrers:
		return verifyReferrers(ctx, r.dst, r.dstRepo, h.fx.referrers)
	}
	return verifyRemote(ctx, r.dst, r.dstRepo, bigTag, h.fx.big.digest)
}

// clearSkopeoCache removes skopeo's blob-info cache, which otherwise makes
// it mount blobs it saw in another repository instead of transferring them.
// For root it lives in /var/lib/containers/cache whatever HOME says.
func (h *harness) clearSkopeoCache() error {
	dirs := []string{filepath.Join(h.work, "home", ".local", "share", "containers", "cache")}
	if os.Geteuid() == 0 {
		dirs = append(dirs, "/var/lib/containers/cache")
	}
	for _, d := range dirs {
		files, _ := filepath.Glob(filepath.Join(d, "blob-info-cache-v1.*"))
		for _, f := range files {
			if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("clear skopeo's blob-info cache: %w", err)
			}
		}
	}
	return nil
}
