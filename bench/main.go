package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config is what the command line chose.
type config struct {
	quick         bool
	runs          int
	cases         []caseName
	tools         map[string]bool // nil: every tool
	sweep         bool
	sweepRuns     int
	concurrencies []int
	out           string
	hoistBin      string
	rev           string
	accessLog     bool
	keep          bool
	work          string
	profiles      []profile
	runsSet       bool // -runs given: it holds under every profile
	ranges        int  // N of the ranged floors
	servers       bool // time hoist serve against distribution v3 too
	serversS3     bool // and two instances of each on SeaweedFS
	sync          bool // time hoist sync against skopeo sync and regsync (sync.go)
	syncRepos     int
	syncTags      int
	s3Requests    bool // count the S3 requests of the servers on SeaweedFS
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var c config
	var cases, tools, conc, prof string
	fs.BoolVar(&c.quick, "quick", false, "CI smoke size: ~10 MB image, 5 tags, 1 run (unless -runs says otherwise)")
	fs.IntVar(&c.runs, "runs", 5, "timed runs per tool and case; the table shows medians (default per profile: loopback 5, lan and far 3, throttled and slow 1)")
	fs.StringVar(&prof, "profile", loopbackProfile, "comma-separated network profiles to run every case under ("+strings.Join(profileNames(), ",")+"); see bench/README.md")
	fs.IntVar(&c.ranges, "ranges", 8, "N of the floor that splits blobs over N parallel ranged connections")
	fs.StringVar(&cases, "cases", "all", "comma-separated cases to run ("+strings.Join(caseNames(), ",")+"), all, or none")
	fs.StringVar(&tools, "tools", "all", "comma-separated tools to time (hoist,crane,regctl,skopeo,oras,floor,floor-ranged), or all")
	fs.BoolVar(&c.serversS3, "servers-s3", false, "time two hoist serve instances against two distribution v3 instances on one SeaweedFS bucket (.tools/bin/weed-*), each pair behind a proxy alternating requests (with -servers, after the servers on disk)")
	fs.BoolVar(&c.s3Requests, "s3-requests", false, "with -servers-s3: count each server's requests to SeaweedFS through a proxy (which costs CPU beside the timed runs; time without it)")
	fs.BoolVar(&c.servers, "servers", false, "also time hoist pushing and pulling the big image through hoist serve and through distribution v3 (.tools/bin/registry), same disk, same run")
	fs.BoolVar(&c.sync, "sync", false, "also time hoist sync against skopeo sync and regsync once (first sync and no-op re-sync) under each -profile; with -cases none, only that")
	fs.IntVar(&c.syncRepos, "sync-repos", 20, "repositories of the sync benchmark")
	fs.IntVar(&c.syncTags, "sync-tags", 5, "tags per repository of the sync benchmark (all but latest are synced)")
	fs.BoolVar(&c.sweep, "sweep", false, "also time hoist alone at each -concurrencies value on pull and copy")
	fs.IntVar(&c.sweepRuns, "sweep-runs", 0, "runs per concurrency in the sweep (default: -runs)")
	fs.StringVar(&conc, "concurrencies", "1,2,3,4,6,8,12,16", "hoist --concurrency values the sweep tries")
	fs.StringVar(&c.out, "out", "", "Markdown results file (default bench/RESULTS.md; bench/work/RESULTS-quick.md with -quick)")
	fs.StringVar(&c.hoistBin, "hoist", "", "hoist binary to time (default: go build ./cmd/hoist into bench/work/bin)")
	fs.StringVar(&c.rev, "rev", "", "build hoist from this git revision (e.g. HEAD) instead of the working tree, which others may be editing")
	fs.BoolVar(&c.accessLog, "accesslog", false, "have every registry log each request (to see what a tool sent; costs registry CPU)")
	fs.BoolVar(&c.keep, "keep", false, "keep every run's directory (layouts, logs, target registries) under bench/work/runs")
	fs.StringVar(&c.work, "work", "", "working directory (default bench/work)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	fs.Visit(func(f *flag.Flag) { c.runsSet = c.runsSet || f.Name == "runs" })
	if c.quick && !c.runsSet {
		c.runs, c.runsSet = 1, true
	}
	if c.ranges < 1 {
		return c, fmt.Errorf("-ranges must be at least 1, got %d", c.ranges)
	}
	if c.runs < 1 {
		return c, fmt.Errorf("-runs must be at least 1, got %d", c.runs)
	}
	if c.sweepRuns == 0 {
		c.sweepRuns = c.runs
	}
	var err error
	if c.profiles, err = parseProfiles(prof); err != nil {
		return c, err
	}
	if c.cases, err = parseCases(cases); err != nil {
		return c, err
	}
	if tools != "all" {
		c.tools = map[string]bool{}
		for _, t := range strings.Split(tools, ",") {
			c.tools[strings.TrimSpace(t)] = true
		}
	}
	for _, s := range strings.Split(conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return c, fmt.Errorf("-concurrencies: %q is not a positive number", s)
		}
		c.concurrencies = append(c.concurrencies, n)
	}
	return c, nil
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == spawnFlag {
		os.Exit(runSpawner(os.Args[2:]))
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h := &harness{cfg: cfg, log: os.Stderr, nonce: time.Now().UTC().Format("150405")}
	err = h.main(ctx)
	h.close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// harness holds what every case shares.
type harness struct {
	cfg          config
	log          io.Writer
	root         string // the hoist module
	work         string
	bins         bins
	src          *registry
	specs        imageSpecs
	fx           fixtures
	tools        []*tool
	rssMethod    string // how peak RSS is measured, for the report
	hoistVersion string // where the timed hoist came from
	nonce        string // makes the mount case's target repositories unique per invocation

	// The profile being run, and how the tools reach the source under it.
	prof   profile
	toxi   *toxiproxy // started for the first shaped profile
	srcEnd *endpoint
	link   linkParams // measured on srcEnd

	serverStats []*serverStat // the servers case, when run
	distVersion string        // what distribution v3's registry says it is
}

// runs is the number of timed runs per tool and case under the current
// profile.
func (h *harness) runs() int {
	if h.cfg.runsSet {
		return h.cfg.runs
	}
	return h.prof.runs
}

// bins are the programs the benchmark runs.
type bins struct {
	hoist, crane, regctl, oras, skopeo, curl, registry, toxiproxy, regsync string
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(h.log, "bench: "+format+"\n", args...)
}

func (h *harness) scale() string {
	if h.cfg.quick {
		return "quick"
	}
	return "full"
}

// env is the whole environment of a child: a private HOME (no user
// credentials or tool configs), TMPDIR under work, and the given
// XDG_CACHE_HOME (hoist's blob-location cache lives there).
func (h *harness) env(cache string) []string {
	home := filepath.Join(h.work, "home")
	if cache == "" {
		cache = filepath.Join(home, ".cache")
	}
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CACHE_HOME=" + cache,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"DOCKER_CONFIG=" + filepath.Join(home, ".docker"),
		"TMPDIR=" + filepath.Join(h.work, "tmp"),
		"LANG=C.UTF-8",
	}
}

// main sets up, runs the chosen cases and the sweep, and writes the report.
func (h *harness) main(ctx context.Context) error {
	if err := h.setup(ctx); err != nil {
		return err
	}
	h.specs = specsFor(h.cfg.quick)
	syncOnly := h.cfg.sync && len(h.cfg.cases) == 0 && !h.cfg.servers && !h.cfg.sweep
	if !syncOnly {
		if err := h.prepareSource(ctx, h.specs); err != nil {
			return err
		}
		h.warmPageCache(ctx)
	}
	env, err := describeEnvironment(ctx, h)
	if err != nil {
		return err
	}
	var all []profileResult
	var sweep *sweepResult
	for i, p := range h.cfg.profiles {
		if syncOnly {
			break
		}
		pr, err := h.runProfile(ctx, p)
		if err != nil {
			return err
		}
		all = append(all, pr)
		if i == 0 && h.cfg.sweep {
			// The sweep runs under the first profile.
			if sweep, err = h.runSweep(ctx); err != nil {
				return err
			}
		}
		h.leaveProfile(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	sections := map[string]string{}
	var order []string
	for _, pr := range all {
		if len(pr.results) > 0 {
			name := resultsSection(pr.prof)
			sections[name] = renderResults(env, h, pr)
			order = append(order, name)
		}
	}
	if h.cfg.servers {
		stats, err := h.runServers(ctx)
		if err != nil {
			return err
		}
		sections["servers"] = renderServers(env, h, stats)
		order = append(order, "servers")
		h.serverStats = stats
	}
	if h.cfg.serversS3 {
		stats, err := h.runServersS3(ctx)
		if err != nil {
			return err
		}
		sections["servers-s3"] = renderServersS3(env, h, stats)
		order = append(order, "servers-s3")
		h.serverStats = append(h.serverStats, stats...)
	}
	var syncs []syncResult
	if h.cfg.sync {
		syncs, err = h.runSync(ctx)
		for _, r := range syncs {
			name := "sync-" + r.prof.name
			sections[name] = renderSync(env, h, r)
			order = append(order, name)
		}
		if err != nil {
			return err
		}
	}
	if shapedIn(all) {
		sections["targets"] = renderWANTargets(env, h, all)
		order = append(order, "targets")
	}
	if sweep != nil {
		sections["sweep"] = renderSweep(env, sweep)
		order = append(order, "sweep")
	}
	for _, name := range order {
		fmt.Println(sections[name])
	}
	if err := updateResultsFile(h.cfg.out, sections); err != nil {
		return err
	}
	h.logf("wrote %s", h.cfg.out)
	var failed []string
	for _, pr := range all {
		for _, r := range pr.results {
			failed = append(failed, r.failures()...)
		}
	}
	if sweep != nil {
		failed = append(failed, sweep.failures()...)
	}
	for _, st := range h.serverStats {
		failed = append(failed, st.failures()...)
	}
	failed = append(failed, syncFailures(syncs)...)
	if len(failed) > 0 {
		return fmt.Errorf("%d tool run(s) failed:\n  %s", len(failed), strings.Join(failed, "\n  "))
	}
	return nil
}

// setup finds the module root and every program, and builds hoist.
func (h *harness) setup(ctx context.Context) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	h.root = root
	h.work = h.cfg.work
	if h.work == "" {
		h.work = filepath.Join(root, "bench", "work")
	}
	if h.cfg.out == "" {
		h.cfg.out = filepath.Join(root, "bench", "RESULTS.md")
		if h.cfg.quick {
			h.cfg.out = filepath.Join(h.work, "RESULTS-quick.md")
		}
	}
	for _, d := range []string{"home", "tmp", "bin", "runs"} {
		if err := os.MkdirAll(filepath.Join(h.work, d), 0o755); err != nil {
			return err
		}
	}
	toolsDir := filepath.Join(root, ".tools", "bin")
	find := func(name, dir, fix string) (string, error) {
		if dir != "" {
			p := filepath.Join(dir, name)
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("%s not found in %s: %s", name, dir, fix)
			}
			return p, nil
		}
		p, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("%s not found on PATH: %s", name, fix)
		}
		return p, nil
	}
	for _, f := range []struct {
		dst            *string
		name, dir, fix string
	}{
		{&h.bins.crane, "crane", toolsDir, "run .ci/tools"},
		{&h.bins.regctl, "regctl", toolsDir, "run .ci/tools"},
		{&h.bins.oras, "oras", toolsDir, "run .ci/tools"},
		{&h.bins.regsync, "regsync", toolsDir, "run .ci/tools"},
		{&h.bins.skopeo, "skopeo", "", "apt-get install skopeo"},
		{&h.bins.curl, "curl", "", "apt-get install curl"},
		{&h.bins.registry, "docker-registry", "", "apt-get install docker-registry"},
	} {
		if *f.dst, err = find(f.name, f.dir, f.fix); err != nil {
			return err
		}
	}
	for _, p := range h.cfg.profiles {
		if p.shaped() && h.bins.toxiproxy == "" {
			if h.bins.toxiproxy, err = find("toxiproxy-server", toolsDir, "run .ci/tools"); err != nil {
				return err
			}
		}
	}
	if h.rssMethod, err = chooseRSSWrapper(); err != nil {
		return err
	}
	h.bins.hoist = h.cfg.hoistBin
	if h.bins.hoist == "" {
		if err := h.buildHoist(ctx); err != nil {
			return err
		}
	}
	all := []*tool{
		{name: "hoist", bin: h.bins.hoist, args: hoistArgs},
		{name: "crane", bin: h.bins.crane, args: craneArgs},
		{name: "regctl", bin: h.bins.regctl, args: regctlArgs},
		{name: "skopeo", bin: h.bins.skopeo, args: skopeoArgs},
		{name: "oras", bin: h.bins.oras, args: orasArgs},
	}
	all = append(all, curlFloor)
	if h.bins.toxiproxy != "" {
		all = append(all, rangedFloor)
	}
	for _, t := range all {
		t.args = referrersArgs(t.name, t.args)
		if h.cfg.tools == nil || h.cfg.tools[t.name] {
			h.tools = append(h.tools, t)
		}
	}
	return nil
}

// buildHoist builds cmd/hoist into work/bin from the working tree, or with
// -rev from that git revision exported to work/hoist-src.
func (h *harness) buildHoist(ctx context.Context) error {
	h.bins.hoist = filepath.Join(h.work, "bin", "hoist")
	dir := h.root
	h.hoistVersion = "built from the working tree"
	if out, err := output(ctx, os.Environ(), "git", "-C", h.root, "describe", "--always", "--dirty"); err == nil {
		h.hoistVersion += " at " + out
	}
	if h.cfg.rev != "" {
		rev, err := output(ctx, os.Environ(), "git", "-C", h.root, "rev-parse", "--short", h.cfg.rev)
		if err != nil {
			return err
		}
		dir = filepath.Join(h.work, "hoist-src")
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		export := exec.CommandContext(ctx, "sh", "-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", h.root, rev, dir)
		if out, err := export.CombinedOutput(); err != nil {
			return fmt.Errorf("export %s: %w\n%s", rev, err, out)
		}
		h.hoistVersion = "built from commit " + rev
	}
	h.logf("building hoist (%s) into %s", h.hoistVersion, h.bins.hoist)
	// hoist-serve beside hoist is what hoist serve runs.
	cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Dir(h.bins.hoist)+"/", "./cmd/hoist", "./cmd/hoist-serve")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/hoist ./cmd/hoist-serve: %w\n%s", err, out)
	}
	return nil
}

// warmPageCache reads every source blob once, so the first timed run is
// not the only one that reads the registry's files from disk.
func (h *harness) warmPageCache(ctx context.Context) {
	c := &curls{bin: h.bins.curl, env: h.env(""), logDir: filepath.Join(h.work, "tmp")}
	args := []string{"-Z"}
	seen := map[string]bool{}
	for _, im := range append([]image{h.fx.big}, h.fx.tags...) {
		for _, b := range im.blobs {
			if !seen[b.digest] {
				seen[b.digest] = true
				args = append(args, blobURL(h.src.addr, im.repo, b.digest), "-o", "/dev/null")
			}
		}
	}
	if _, err := c.run(ctx, args...); err != nil {
		h.logf("warming the page cache: %v", err)
	}
	_ = filepath.Walk(h.fx.layout, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			if f, err := os.Open(p); err == nil {
				_, _ = io.Copy(io.Discard, f)
				f.Close()
			}
		}
		return nil
	})
}

// close stops the proxies, toxiproxy-server and the source registry.
func (h *harness) close() {
	h.srcEnd.close(context.Background())
	h.toxi.stop()
	h.src.stop()
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/hoist-dev/hoist\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run bench from inside the hoist module (go run ./bench)")
		}
		dir = parent
	}
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
