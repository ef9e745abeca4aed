package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/remote"
	"github.com/hoist-dev/hoist/syncer"
	"github.com/hoist-dev/hoist/transport"
)

// The sync benchmark (-sync): hoist sync against skopeo sync and regsync
// once, mirroring syncRepos repositories × syncTags tags of small images
// that share a base layer, with a tag filter, from a source registry (far
// under a profile) into a fresh near one; then once more with nothing
// changed (the no-op re-sync). Every tool reads the same config: a skopeo
// sync YAML file (hoist reads it unchanged), and for regsync its own
// format saying the same.

const syncPrefix = "sync"

// syncSizes are the repositories and tags per repository of the sync
// benchmark.
func (h *harness) syncSizes() (repos, tags int) {
	if h.cfg.quick {
		return 5, 4
	}
	return h.cfg.syncRepos, h.cfg.syncTags
}

// syncFixture is the source of the sync benchmark.
type syncFixture struct {
	reg   *registry
	repos []string          // source repositories: sync/svcNN
	tags  []string          // tags of each: 1.0.0 … and latest
	want  map[string]string // "svcNN:tag" -> digest, for the tags the filter selects
}

// syncSelected reports whether the benchmark's filter (^1\.) takes tag.
func syncSelected(tag string) bool { return strings.HasPrefix(tag, "1.") }

var syncClient = transport.NewClient(transport.New())

// prepareSync starts the sync source (kept under work between
// invocations) and pushes its images where they are missing.
func (h *harness) prepareSync(ctx context.Context) (*syncFixture, error) {
	nr, nt := h.syncSizes()
	dir := filepath.Join(h.work, fmt.Sprintf("sync-src-%dx%d", nr, nt))
	reg, err := startRegistry(ctx, h.bins.registry, dir, h.cfg.accessLog)
	if err != nil {
		return nil, err
	}
	fx := &syncFixture{reg: reg, want: map[string]string{}}
	for i := range nt - 1 {
		fx.tags = append(fx.tags, fmt.Sprintf("1.%d.0", i))
	}
	fx.tags = append(fx.tags, "latest")
	type job struct {
		repo, tag string
		img       *testutil.Image
	}
	var jobs []job
	for r := range nr {
		repo := fmt.Sprintf("%s/svc%02d", syncPrefix, r)
		fx.repos = append(fx.repos, repo)
		for _, tag := range fx.tags {
			img, err := testutil.BuildImage(testutil.ImageSpec{Seed: repo + ":" + tag, Base: "sync", LayerBytes: 16 << 10, Docker: true})
			if err != nil {
				return nil, err
			}
			jobs = append(jobs, job{repo, tag, img})
			if syncSelected(tag) {
				fx.want[strings.TrimPrefix(repo, syncPrefix+"/")+":"+tag] = img.Root.Digest.String()
			}
		}
	}
	h.logf("sync: source %s, %d repositories × %d tags (pushing what is missing)", reg.addr, nr, nt)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, j := range jobs {
		g.Go(func() error {
			dst, err := remote.New(reference.Reference{Registry: reg.addr, Repository: j.repo, Tag: j.tag}, syncClient)
			if err != nil {
				return err
			}
			if d, err := dst.Resolve(gctx, j.tag); err == nil && d.Digest == j.img.Root.Digest {
				return nil
			}
			if err := testutil.CopyGraph(gctx, j.img, j.img.Root, dst); err != nil {
				return err
			}
			return dst.Tag(gctx, j.img.Root, j.tag)
		})
	}
	if err := g.Wait(); err != nil {
		reg.stop()
		return nil, fmt.Errorf("sync source: %w", err)
	}
	return fx, nil
}

// syncTool is one contender: how it syncs the benchmark's config into a
// target, given the run's directory.
type syncTool struct {
	name string
	argv func(fx *syncFixture, src, dst, dir string, fast bool) []string
}

func (h *harness) syncTools() []syncTool {
	skopeoYAML := func(fx *syncFixture, src, dir string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "%s:\n  tls-verify: false\n  images-by-tag-regex:\n", src)
		for _, r := range fx.repos {
			fmt.Fprintf(&b, "    %s: ^1\\.\n", r)
		}
		p := filepath.Join(dir, "skopeo-sync.yaml")
		os.WriteFile(p, []byte(b.String()), 0o644)
		return p
	}
	all := []syncTool{
		{name: "hoist", argv: func(fx *syncFixture, src, dst, dir string, fast bool) []string {
			a := []string{h.bins.hoist, "sync", "--state", filepath.Join(dir, "hoist-state.json")}
			if fast {
				a = append(a, "--fast")
			}
			return append(a, skopeoYAML(fx, src, dir), dst+"/mirror")
		}},
		{name: "skopeo", argv: func(fx *syncFixture, src, dst, dir string, fast bool) []string {
			return []string{h.bins.skopeo, "--insecure-policy", "sync", "--src", "yaml", "--dest", "docker", "--dest-tls-verify=false",
				skopeoYAML(fx, src, dir), dst + "/mirror"}
		}},
		{name: "regsync", argv: regsyncArgv(h, 0)},
		{name: syncRegsyncC16, argv: regsyncArgv(h, syncRegsyncParallel)},
	}
	var out []syncTool
	for _, t := range all {
		if h.cfg.tools == nil || h.cfg.tools[strings.TrimSuffix(t.name, "-c16")] {
			out = append(out, t)
		}
	}
	return out
}

// regsyncArgv runs regsync once on the benchmark's config in its
// format; reqConcurrent > 0 sets its requests in flight per registry
// (regclient's default is 3).
func regsyncArgv(h *harness, reqConcurrent int) func(fx *syncFixture, src, dst, dir string, fast bool) []string {
	return func(fx *syncFixture, src, dst, dir string, fast bool) []string {
		var b strings.Builder
		b.WriteString("version: 1\ncreds:\n")
		for _, host := range []string{src, dst} {
			fmt.Fprintf(&b, "  - registry: %s\n    tls: disabled\n", host)
			if reqConcurrent > 0 {
				fmt.Fprintf(&b, "    reqConcurrent: %d\n", reqConcurrent)
			}
		}
		fmt.Fprintf(&b, "defaults:\n  parallel: %d\nsync:\n", syncRegsyncParallel)
		for _, r := range fx.repos {
			fmt.Fprintf(&b, "  - source: %s/%s\n    target: %s/mirror/%s\n    type: repository\n    tags:\n      allow: ['1\\..*']\n",
				src, r, dst, strings.TrimPrefix(r, syncPrefix+"/"))
		}
		p := filepath.Join(dir, "regsync.yml")
		os.WriteFile(p, []byte(b.String()), 0o644)
		return []string{h.bins.regsync, "once", "-c", p}
	}
}

// syncRegsyncC16 is regsync with reqConcurrent 16 on both registries,
// beside regsync at its own default (3): extra information, not one of
// the peers (skopeo sync and regsync once at its defaults).
const syncRegsyncC16 = "regsync-c16"

// syncRegsyncParallel is regsync's defaults.parallel in the benchmark:
// hoist's default number of images at once, so that both run as many
// images side by side (regsync's own default is 1; skopeo sync has no
// such setting and copies one image at a time).
const syncRegsyncParallel = 16

// syncSample is one run of one tool: the first sync into an empty
// target, the no-op re-sync, and for hoist the re-sync with --fast.
type syncSample struct {
	first, noop, fast sample
}

// syncResult is every run under one profile.
type syncResult struct {
	prof    profile
	order   []string
	samples map[string][]syncSample
	floor   []sample // curl doing the no-op's source requests, once per run
}

// runSync times the sync benchmark under every profile of the run.
func (h *harness) runSync(ctx context.Context) ([]syncResult, error) {
	fx, err := h.prepareSync(ctx)
	if err != nil {
		return nil, err
	}
	defer fx.reg.stop()
	tools := h.syncTools()
	var out []syncResult
	for _, p := range h.cfg.profiles {
		h.prof = p
		if p.shaped() && h.toxi == nil {
			t, err := startToxiproxy(ctx, h.bins.toxiproxy, filepath.Join(h.work, "toxiproxy"))
			if err != nil {
				return out, err
			}
			h.toxi = t
		}
		src, err := h.exposeCounted(ctx, fx.reg.addr, true)
		if err != nil {
			return out, err
		}
		res := syncResult{prof: p, samples: map[string][]syncSample{}}
		for _, t := range tools {
			res.order = append(res.order, t.name)
		}
		for i := range h.runs() {
			for j := range tools {
				t := tools[(i+j)%len(tools)]
				s := h.syncOnce(ctx, fx, src, t, i)
				res.samples[t.name] = append(res.samples[t.name], s)
				h.logf("%-9s sync %d/%d %-8s first %8.3fs (%s)  no-op %8.3fs (%s)%s", p.name, i+1, h.runs(), t.name,
					s.first.wall.Seconds(), status(s.first), s.noop.wall.Seconds(), status(s.noop), fastNote(s))
				if ctx.Err() != nil {
					src.close(ctx)
					return append(out, res), ctx.Err()
				}
			}
			if h.cfg.tools == nil || h.cfg.tools[floorName] {
				f := h.syncFloor(ctx, fx, src, i)
				res.floor = append(res.floor, f)
				h.logf("%-9s sync %d/%d %-8s no-op    %8.3fs (%s)", p.name, i+1, h.runs(), syncFloorName, f.wall.Seconds(), status(f))
			}
		}
		src.close(ctx)
		out = append(out, res)
	}
	return out, nil
}

func status(s sample) string {
	if s.err != nil {
		return "FAILED: " + s.err.Error()
	}
	return "ok"
}

func fastNote(s syncSample) string {
	if s.fast.wall == 0 {
		return ""
	}
	return fmt.Sprintf("  --fast %8.3fs (%s)", s.fast.wall.Seconds(), status(s.fast))
}

// exposeCounted is expose with the counting proxy on every profile,
// loopback included: the sync benchmark reports requests everywhere.
func (h *harness) exposeCounted(ctx context.Context, addr string, remote bool) (*endpoint, error) {
	if h.prof.shaped() {
		return h.expose(ctx, addr, remote)
	}
	c, err := startCountingProxy(addr)
	if err != nil {
		return nil, err
	}
	return &endpoint{addr: c.addr, direct: addr, count: c}, nil
}

// syncOnce runs t twice against a fresh target: the first sync, checked,
// then the no-op re-sync (and for hoist, once more with --fast).
func (h *harness) syncOnce(ctx context.Context, fx *syncFixture, src *endpoint, t syncTool, i int) syncSample {
	var s syncSample
	dir := filepath.Join(h.work, "runs", h.prof.name, "sync", fmt.Sprintf("%s-run%d", t.name, i+1))
	fail := func(err error) syncSample { s.first.err = err; return s }
	if err := os.RemoveAll(dir); err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	reg, err := startRegistry(ctx, h.bins.registry, filepath.Join(dir, "registry"), h.cfg.accessLog)
	if err != nil {
		return fail(err)
	}
	defer reg.stop()
	dst, err := h.exposeCounted(ctx, reg.addr, false)
	if err != nil {
		return fail(err)
	}
	defer dst.close(ctx)
	if err := h.clearSkopeoCache(); err != nil {
		return fail(err)
	}
	env := h.env(filepath.Join(dir, "cache"))
	one := func(label string, fast bool) sample {
		src.take()
		dst.take()
		p := proc{argv: t.argv(fx, src.addr, dst.addr, dir, fast), env: env, log: filepath.Join(dir, label+".log")}
		before := loadNow(fx.reg.pid(), reg.pid())
		r := measure(ctx, p)
		r.load = loadNow(fx.reg.pid(), reg.pid()).since(before)
		r.requests = runCounts{"source": src.take(), "target": dst.take()}
		if r.err == nil {
			r.err = verifySync(ctx, reg.addr, fx)
		}
		return r
	}
	s.first = one("first", false)
	if s.first.err != nil {
		return s
	}
	s.noop = one("noop", false)
	if t.name == "hoist" {
		s.fast = one("fast", true)
	}
	if s.first.err == nil && s.noop.err == nil && !h.cfg.keep {
		reg.stop()
		os.RemoveAll(dir)
	}
	return s
}

// verifySync checks that the target holds exactly the selected tags of
// every repository, each naming the source's manifest.
func verifySync(ctx context.Context, addr string, fx *syncFixture) error {
	reg, err := remote.NewRegistry(addr, syncClient)
	if err != nil {
		return err
	}
	got := 0
	for _, repo := range fx.repos {
		name := "mirror/" + strings.TrimPrefix(repo, syncPrefix+"/")
		r, _ := reg.Repository(ctx, name)
		tags, err := r.(store.TagLister).Tags(ctx, store.Page{})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for _, tag := range tags {
			want, ok := fx.want[strings.TrimPrefix(name, "mirror/")+":"+tag]
			if !ok {
				return fmt.Errorf("%s:%s is in the target, but the filter does not select it", name, tag)
			}
			d, err := r.Resolve(ctx, tag)
			if err != nil {
				return err
			}
			if d.Digest.String() != want {
				return fmt.Errorf("%s:%s is %s in the target, %s in the source", name, tag, d.Digest, want)
			}
			got++
		}
	}
	if got != len(fx.want) {
		return fmt.Errorf("the target holds %d of the %d selected tags", got, len(fx.want))
	}
	return nil
}

// renderSync renders one profile's sync results.
func renderSync(e envInfo, h *harness, r syncResult) string {
	var b strings.Builder
	nr, nt := h.syncSizes()
	fmt.Fprintf(&b, "## Sync: hoist sync against skopeo sync and regsync once, %s profile (%s)\n\n", r.prof.name, h.scale())
	renderHeader(&b, e)
	fmt.Fprintf(&b, "- Profile: %s — %s\n", r.prof.name, r.prof.what)
	fmt.Fprintf(&b, "- Source: %d repositories × %d tags of small images (a 16 KiB layer each over one shared base layer, Docker media types) on docker-registry; "+
		"the filter keeps the %d tags matching `^1\\.` of each (%d images). Every run syncs into a fresh docker-registry (near), then syncs again with nothing changed.\n",
		nr, nt, nt-1, nr*(nt-1))
	fmt.Fprintf(&b, "- Config: one skopeo sync YAML file (`images-by-tag-regex`), which skopeo and hoist read as it is; regsync the same in its format (`type: repository`, `tags.allow`) with `parallel: %d`, hoist's default images at once (regsync's default is 1; skopeo sync copies one image at a time); regsync-c16, extra information and not a target peer, is the same with `reqConcurrent: %[1]d` on both registries (regclient's default is 3; hoist's default per host is %[2]d). hoist keeps its state file between the two runs.\n", syncRegsyncParallel, syncer.DefaultHostConcurrency)
	fmt.Fprintf(&b, "- Requests are counted by a TCP proxy in front of each registry; medians of %d runs.\n\n", h.runs())
	b.WriteString("| tool | first sync | ÷ faster peer | no-op re-sync | ÷ faster peer | no-op requests, source (tags / manifest HEAD / manifest GET / all) | no-op requests, target | peak RSS (first / no-op) |\n")
	b.WriteString("|---|---:|---:|---:|---:|---|---:|---:|\n")
	med := func(name string, pick func(syncSample) sample) (time.Duration, int64, requestCounts, requestCounts, bool) {
		var d []time.Duration
		var rss int64
		var src, dst requestCounts
		for _, s := range r.samples[name] {
			x := pick(s)
			if x.err != nil || x.wall == 0 {
				return 0, 0, nil, nil, false
			}
			d = append(d, x.wall)
			rss = max(rss, x.rss)
			src, dst = x.requests["source"], x.requests["target"]
		}
		if len(d) == 0 {
			return 0, 0, nil, nil, false
		}
		return median(d), rss, src, dst, true
	}
	first := func(s syncSample) sample { return s.first }
	noop := func(s syncSample) sample { return s.noop }
	fast := func(s syncSample) sample { return s.fast }
	// The peers are skopeo sync and regsync once at regclient's
	// defaults; regsync-c16 is extra information, shown beside them and
	// judged against, but never the peer a target is measured by.
	var peerFirst, peerNoop time.Duration
	for _, name := range r.order {
		if name == "hoist" || name == syncRegsyncC16 {
			continue
		}
		if d, _, _, _, ok := med(name, first); ok && (peerFirst == 0 || d < peerFirst) {
			peerFirst = d
		}
		if d, _, _, _, ok := med(name, noop); ok && (peerNoop == 0 || d < peerNoop) {
			peerNoop = d
		}
	}
	row := func(label string, f, n time.Duration, rf, rn int64, src, dst requestCounts) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d / %d / %d / %d | %d | %s / %s |\n", label, secs(f), ratioCell(f, peerFirst), secs(n), ratioCell(n, peerNoop),
			src[kindTags], src[kindManifestHead], src[kindManifestGet], src.total(), dst.total(), mibs(rf), mibs(rn))
	}
	var verdicts []string
	for _, name := range r.order {
		f, rf, _, _, ok1 := med(name, first)
		n, rn, src, dst, ok2 := med(name, noop)
		if !ok1 || !ok2 {
			fmt.Fprintf(&b, "| %s | failed | | | | | | |\n", name)
			continue
		}
		label := name
		if name == syncRegsyncC16 {
			label = syncRegsyncC16 + " (extra, not a target peer)"
		}
		row(label, f, n, rf, rn, src, dst)
		if name == "hoist" {
			if fn, rfn, fsrc, fdst, ok := med(name, fast); ok {
				fmt.Fprintf(&b, "| hoist --fast (no-op only) | | | %s | %s | %d / %d / %d / %d | %d | – / %s |\n", secs(fn), ratioCell(fn, peerNoop),
					fsrc[kindTags], fsrc[kindManifestHead], fsrc[kindManifestGet], fsrc.total(), fdst.total(), mibs(rfn))
				verdicts = append(verdicts, syncVerdict("no-op re-sync with --fast", fn, peerNoop, 0.2))
			}
			verdicts = append(verdicts, syncVerdict("first sync", f, peerFirst, 0.5), syncVerdict("no-op re-sync", n, peerNoop, 0.2))
		}
	}
	floorNoop, floorSrc, floorOK := syncFloorMedian(r.floor)
	if floorOK {
		fmt.Fprintf(&b, "| floor: curl, the no-op's source requests only, %d at once (see below) | | | %s | %s | %d / %d / %d / %d | 0 | |\n", syncFloorParallel,
			secs(floorNoop), ratioCell(floorNoop, peerNoop), floorSrc[kindTags], floorSrc[kindManifestHead], floorSrc[kindManifestGet], floorSrc.total())
	}
	renderSyncLoad(&b, r)
	b.WriteString("\nFirst sync requests (one run each):\n")
	for _, name := range r.order {
		if ss := r.samples[name]; len(ss) > 0 && ss[len(ss)-1].first.err == nil {
			rq := ss[len(ss)-1].first.requests
			fmt.Fprintf(&b, "- %s: source %s; target %s\n", name, countsLine(rq["source"]), countsLine(rq["target"]))
		}
	}
	if len(verdicts) > 0 {
		b.WriteString("\nTargets (hoist ÷ the faster of skopeo and regsync): " + strings.Join(verdicts, "; ") + ".\n")
	}
	if floorOK && peerNoop > 0 {
		fmt.Fprintf(&b, "\nThe floor is curl sending what a no-op re-sync must ask the source without --fast (each repository's listing, then one manifest HEAD per selected tag) and nothing else: no config, no state, no target. It is %.2f× the faster peer's no-op; a no-op target below that needs fewer requests than one HEAD per tag (as --fast sends) or a faster registry.\n", ratio(floorNoop, peerNoop))
	}
	if hf, _, _, _, ok := med("hoist", first); ok {
		if cf, _, _, _, ok := med(syncRegsyncC16, first); ok {
			if hn, _, _, _, ok := med("hoist", noop); ok {
				if cn, _, _, _, ok := med(syncRegsyncC16, noop); ok {
					fmt.Fprintf(&b, "\nBeside regsync-c16 (extra, not a target peer): first sync %.2f×, no-op re-sync %.2f×.\n", ratio(hf, cf), ratio(hn, cn))
				}
			}
		}
	}
	for _, name := range r.order {
		for i, s := range r.samples[name] {
			for _, x := range []sample{s.first, s.noop, s.fast} {
				if x.err != nil {
					fmt.Fprintf(&b, "\n- %s run %d failed: %s", name, i+1, x.err)
				}
			}
		}
	}
	for i, f := range r.floor {
		if f.err != nil {
			fmt.Fprintf(&b, "\n- the floor's run %d failed: %s", i+1, f.err)
		}
	}
	return b.String()
}

// renderSyncLoad says where the CPU went in each tool's runs: its own,
// the two registries', and how busy the whole machine was, so a reader
// sees when the registries, not the tool, set the time.
func renderSyncLoad(b *strings.Builder, r syncResult) {
	b.WriteString("\nWhere the CPU went (medians): the tool's own CPU, the source and target registries' CPU during the run, and the share of all CPUs in use meanwhile (the tool, the registries, toxiproxy, the counting proxies).\n\n")
	b.WriteString("| tool | first sync: tool CPU | registries' CPU | machine busy | no-op: tool CPU | registries' CPU | machine busy |\n|---|---:|---:|---:|---:|---:|---:|\n")
	cell := func(ss []syncSample, pick func(syncSample) sample) string {
		var st []sample
		for _, s := range ss {
			if x := pick(s); x.err == nil && x.wall > 0 {
				st = append(st, x)
			}
		}
		if len(st) == 0 {
			return "– | – | –"
		}
		x := summarize("", st)
		return fmt.Sprintf("%s | %s | %.0f%%", secs(x.cpu), secs(x.servers), 100*x.busy)
	}
	for _, name := range r.order {
		ss := r.samples[name]
		fmt.Fprintf(b, "| %s | %s | %s |\n", name, cell(ss, func(s syncSample) sample { return s.first }), cell(ss, func(s syncSample) sample { return s.noop }))
	}
}

func ratioCell(d, peer time.Duration) string {
	if peer == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", ratio(d, peer))
}

func syncVerdict(what string, d, peer time.Duration, target float64) string {
	if peer == 0 {
		return what + ": no peer finished"
	}
	r := ratio(d, peer)
	v := "met"
	if r > target {
		v = "**missed**"
	}
	return fmt.Sprintf("%s %.2f× (target ≤ %.1f×, %s)", what, r, target, v)
}

// syncFailures lists the failed runs, for the exit status.
func syncFailures(all []syncResult) []string {
	var out []string
	for _, r := range all {
		for name, ss := range r.samples {
			for i, s := range ss {
				for _, x := range []sample{s.first, s.noop, s.fast} {
					if x.err != nil {
						out = append(out, fmt.Sprintf("%s sync %s run %d: %v", r.prof.name, name, i+1, x.err))
					}
				}
			}
		}
		for i, f := range r.floor {
			if f.err != nil {
				out = append(out, fmt.Sprintf("%s sync floor run %d: %v", r.prof.name, i+1, f.err))
			}
		}
	}
	return out
}

// countsLine renders counts as "N (kind n, …)", kinds in table order.
func countsLine(c requestCounts) string {
	var parts []string
	for _, k := range requestKinds {
		if c[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, c[k]))
		}
	}
	return fmt.Sprintf("%d (%s)", c.total(), strings.Join(parts, ", "))
}
