package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The servers case times the registry, not the client: hoist pushes the
// big image from the layout into a fresh hoist serve and into a fresh
// distribution v3 (both storing on the same disk, under work/), then pulls
// it back into a fresh layout. The order of the two servers alternates
// from run to run. The result is hoist serve's time over distribution's.

// servedBy is one server under test: one process, or several instances
// behind a proxy (addr is then the proxy's).
type servedBy struct {
	name  string
	start func(ctx context.Context, dir string) (addr string, procs []*child, stop func(), err error)
	s3    *countingProxy // counts what the server asks S3 for, when set
	store int            // the PID of the object store it stands on (0: none), whose CPU a run costs is counted
}

// one is a servedBy start of a single process.
func one(start func(ctx context.Context, dir string) (string, *child, error)) func(ctx context.Context, dir string) (string, []*child, func(), error) {
	return func(ctx context.Context, dir string) (string, []*child, func(), error) {
		addr, c, err := start(ctx, dir)
		if err != nil {
			return "", nil, nil, err
		}
		return addr, []*child{c}, c.stop, nil
	}
}

// serverStat is one server's medians and peak RSS.
type serverStat struct {
	name            string
	push, pull, all []time.Duration
	cpu             []time.Duration // CPU time of all its instances, per run
	storeCPU        []time.Duration // CPU time of the object store during each run
	rss             []int64         // each instance's peak, bytes
	failed          []string
	s3Push, s3Pull  requestCounts // S3 requests of the last run, with -s3-requests
}

// failures lists the failed runs, for the exit status.
func (s *serverStat) failures() []string { return s.failed }

// runServers runs the servers case.
func (h *harness) runServers(ctx context.Context) ([]*serverStat, error) {
	if h.fx.layout == "" {
		if err := h.prepareLayout(ctx); err != nil {
			return nil, err
		}
	}
	distBin := filepath.Join(h.root, ".tools", "bin", "registry")
	if _, err := os.Stat(distBin); err != nil {
		return nil, fmt.Errorf("distribution v3 (%s) is missing: run .ci/tools", distBin)
	}
	servers := []servedBy{
		{"hoist serve", one(func(ctx context.Context, dir string) (string, *child, error) {
			return h.startHoistServe(ctx, dir)
		}), nil, 0},
		{"distribution v3", one(func(ctx context.Context, dir string) (string, *child, error) {
			r, err := startRegistry(ctx, distBin, dir, false)
			if err != nil {
				return "", nil, err
			}
			return r.addr, r.proc, nil
		}), nil, 0},
	}
	return h.timeServers(ctx, distBin, servers)
}

// timeServers runs each server's push and pull h.runs() times, the order
// alternating from run to run.
func (h *harness) timeServers(ctx context.Context, distBin string, servers []servedBy) ([]*serverStat, error) {
	if out, err := output(ctx, h.env(""), distBin, "--version"); err == nil { // "PATH MODULE VERSION"
		if f := strings.Fields(out); len(f) >= 2 {
			h.distVersion = strings.Join(f[1:], " ")
		}
	}
	stats := []*serverStat{{name: servers[0].name}, {name: servers[1].name}}
	runs := h.runs()
	for i := range runs {
		for k := range servers {
			j := (k + i) % len(servers) // alternate who goes first
			if err := h.serverRun(ctx, servers[j], stats[j], i); err != nil {
				return nil, err
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
	}
	return stats, nil
}

// serverRun is one push and one pull through a fresh server.
func (h *harness) serverRun(ctx context.Context, s servedBy, st *serverStat, i int) error {
	dir := filepath.Join(h.work, "runs", fmt.Sprintf("servers-%s-%d", strings.ReplaceAll(s.name, " ", "-"), i))
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	addr, procs, stop, err := s.start(ctx, dir)
	if err != nil {
		return fmt.Errorf("starting %s: %w", s.name, err)
	}
	defer stop()
	if s.s3 != nil {
		s.s3.takeNow() // what starting sent
		s.s3.mark(fmt.Sprintf("run %d: push", i+1))
	}
	storeBefore := cpuOf(s.store)
	ref := addr + "/" + bigRepo + ":" + bigTag
	env := h.env(filepath.Join(dir, "cache"))
	push := measure(ctx, proc{argv: []string{h.bins.hoist, "push", "-q", "oci:" + h.fx.layout + ":" + bigTag, ref}, env: env,
		log: filepath.Join(dir, "push.log"), stdout: filepath.Join(dir, "push.out")})
	if s.s3 != nil {
		st.s3Push = s.s3.takeNow()
		s.s3.mark(fmt.Sprintf("run %d: pull", i+1))
	}
	pull := sample{err: fmt.Errorf("not run: the push failed")}
	if push.err == nil {
		pull = measure(ctx, proc{argv: []string{h.bins.hoist, "pull", "-q", ref, "oci:" + filepath.Join(dir, "out") + ":" + bigTag}, env: env,
			log: filepath.Join(dir, "pull.log"), stdout: filepath.Join(dir, "pull.out")})
	}
	if s.s3 != nil {
		st.s3Pull = s.s3.takeNow()
	}
	for _, r := range []struct {
		what string
		s    sample
		out  string
	}{{"push", push, "push.out"}, {"pull", pull, "pull.out"}} {
		if r.s.err != nil {
			st.failed = append(st.failed, fmt.Sprintf("%s %s run %d: %v", s.name, r.what, i+1, r.s.err))
			continue
		}
		if got, _ := os.ReadFile(filepath.Join(dir, r.out)); strings.TrimSpace(string(got)) != h.fx.big.digest {
			st.failed = append(st.failed, fmt.Sprintf("%s %s run %d: digest %q, want %s", s.name, r.what, i+1, strings.TrimSpace(string(got)), h.fx.big.digest))
		}
	}
	if push.err == nil && pull.err == nil {
		st.push = append(st.push, push.wall)
		st.pull = append(st.pull, pull.wall)
		st.all = append(st.all, push.wall+pull.wall)
	}
	var cpu time.Duration
	for _, c := range procs {
		cpu += cpuOf(c.cmd.Process.Pid)
	}
	storeCPU := cpuOf(s.store) - storeBefore
	if push.err == nil && pull.err == nil {
		st.cpu = append(st.cpu, cpu)
		line := fmt.Sprintf("%s run %d: push %s, pull %s, server CPU %s", s.name, i+1, secs(push.wall), secs(pull.wall), secs(cpu))
		if s.store != 0 {
			st.storeCPU = append(st.storeCPU, storeCPU)
			line += ", S3 CPU " + secs(storeCPU)
		}
		h.logf("%s", line)
	}
	for k, c := range procs {
		if k == len(st.rss) {
			st.rss = append(st.rss, 0)
		}
		st.rss[k] = max(st.rss[k], peakRSSOf(c.cmd.Process.Pid))
	}
	return nil
}

// startHoistServe starts the benchmarked hoist binary as a registry on a
// free loopback port, storing under dir/data.
func (h *harness) startHoistServe(ctx context.Context, dir string) (string, *child, error) {
	al := ""
	if h.cfg.accessLog {
		al = "-"
	}
	return startServer(ctx, dir, nil, func(addr string) ([]string, error) {
		return []string{h.bins.hoist, "serve", "--addr", addr, "--root", filepath.Join(dir, "data"), "--access-log", al}, nil
	})
}

// startServer runs the registry argv(addr) gives on a free loopback port,
// with env added to the environment and its output in dir/registry.log,
// and returns once it answers /v2/.
func startServer(ctx context.Context, dir string, env []string, argv func(addr string) ([]string, error)) (string, *child, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	logf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		return "", nil, err
	}
	defer logf.Close() // the child holds its own descriptor
	args, err := argv(addr)
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(args[0], args[1:]...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	c, err := startChild(cmd)
	if err != nil {
		return "", nil, err
	}
	r := &registry{addr: addr, dir: dir, proc: c}
	if err := r.waitReady(ctx); err != nil {
		c.stop()
		return "", nil, err
	}
	return addr, c, nil
}

// peakRSSOf reads a running process's peak resident set (VmHWM), in
// bytes; 0 when it cannot.
func peakRSSOf(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kib * 1024
		}
	}
	return 0
}

// cpuOf reads a running process's CPU time so far (user and system, from
// /proc/PID/stat); 0 when it cannot.
func cpuOf(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses and may
	// hold spaces: state is field 3, utime and stime fields 14 and 15.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ticksToDuration(u + st)
}

// clockTicks is USER_HZ, the unit of /proc's CPU times (100 on Linux).
const clockTicks = 100

// serverTable is the table of both servers' medians and peak RSS (per
// instance when there are several).
func serverTable(stats []*serverStat) string {
	var b strings.Builder
	withStore := len(stats) > 0 && len(stats[0].storeCPU) > 0
	if withStore {
		b.WriteString("| server | push | pull | push + pull | server CPU | S3 CPU | server peak RSS |\n|---|---:|---:|---:|---:|---:|---:|\n")
	} else {
		b.WriteString("| server | push | pull | push + pull | server CPU | server peak RSS |\n|---|---:|---:|---:|---:|---:|\n")
	}
	for _, s := range stats {
		var rss []string
		for _, r := range s.rss {
			rss = append(rss, mibs(r))
		}
		store := ""
		if withStore {
			store = " " + secs(median(s.storeCPU)) + " |"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |%s %s |\n", s.name, secs(median(s.push)), secs(median(s.pull)), secs(median(s.all)), secs(median(s.cpu)), store, strings.Join(rss, " / "))
	}
	return b.String()
}

// renderServers writes the servers section.
func renderServers(e envInfo, h *harness, stats []*serverStat) string {
	var b strings.Builder
	b.WriteString("## Registry servers: hoist serve against distribution v3\n\n")
	renderHeader(&b, e)
	b.WriteString("\n")
	fmt.Fprintf(&b, "hoist pushes the big image (%s) from an OCI layout into a fresh server, then pulls it into a fresh layout; "+
		"both servers store on the same disk, under the work directory, and take turns going first. Medians of %d runs.\n\n",
		mibs(h.fx.big.size()), h.runs())
	if h.distVersion != "" {
		fmt.Fprintf(&b, "distribution: `%s` (.tools/bin/registry, built by .ci/tools).\n\n", h.distVersion)
	}
	b.WriteString(serverTable(stats))
	if len(stats) == 2 && len(stats[0].all) > 0 && len(stats[1].all) > 0 {
		fmt.Fprintf(&b, "\nhoist serve / distribution v3, push + pull: **%.2f** (target ≤ 1.00); push %.2f, pull %.2f.\n",
			ratio(median(stats[0].all), median(stats[1].all)), ratio(median(stats[0].push), median(stats[1].push)), ratio(median(stats[0].pull), median(stats[1].pull)))
	}
	for _, s := range stats {
		for _, f := range s.failed {
			fmt.Fprintf(&b, "\n- failed: %s", f)
		}
	}
	return b.String()
}
