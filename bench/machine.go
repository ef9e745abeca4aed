package main

import (
	"bufio"
	"context"
	"debug/buildinfo"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// envInfo is what a reader needs to reproduce or weigh the numbers.
type envInfo struct {
	date        string
	command     string
	machine     string
	versions    []string // "tool version"
	defaultConc string   // hoist's --concurrency default, from its help
}

func describeEnvironment(ctx context.Context, h *harness) (envInfo, error) {
	e := envInfo{
		date:    time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		command: commandLine(append([]string{"go", "run", "./bench"}, os.Args[1:]...)),
	}
	mem := "?"
	if kb := procField("/proc/meminfo", "MemTotal"); kb != "" {
		if n, err := strconv.ParseInt(strings.Fields(kb)[0], 10, 64); err == nil {
			mem = fmt.Sprintf("%.1f GiB", float64(n)/(1<<20))
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	e.machine = fmt.Sprintf("%d CPUs (nproc), %s, %s RAM, Linux %s, %s/%s, %s",
		runtime.NumCPU(), procField("/proc/cpuinfo", "model name"), mem,
		strings.TrimSpace(string(kernel)), runtime.GOOS, runtime.GOARCH, runtime.Version())

	hoistRev := h.hoistVersion
	if h.cfg.hoistBin != "" {
		hoistRev = h.cfg.hoistBin
	}
	e.versions = append(e.versions, "hoist ("+hoistRev+")")
	for _, q := range []struct {
		name string
		argv []string
		re   string
	}{
		{"crane", []string{h.bins.crane, "version"}, `(\S+)`},
		{"regctl", []string{h.bins.regctl, "version"}, `VCSTag:\s*(\S+)`},
		{"skopeo", []string{h.bins.skopeo, "--version"}, `version (\S+)`},
		{"oras", []string{h.bins.oras, "version"}, `Version:\s*(\S+)`},
		{"regsync", []string{h.bins.regsync, "version"}, `VCSTag:\s*(\S+)`},
		{"curl", []string{h.bins.curl, "--version"}, `curl (\S+)`},
		{"docker-registry", []string{h.bins.registry, "--version"}, `distribution (\S+)`},
	} {
		out, err := output(ctx, h.env(""), q.argv...)
		if err != nil {
			return e, err
		}
		v := strings.SplitN(out, "\n", 2)[0]
		if m := regexp.MustCompile(q.re).FindStringSubmatch(out); m != nil {
			v = m[1]
		}
		e.versions = append(e.versions, q.name+" "+v)
	}
	if h.bins.toxiproxy != "" {
		v := "?"
		if bi, err := buildinfo.ReadFile(h.bins.toxiproxy); err == nil {
			v = bi.Main.Version
		}
		e.versions = append(e.versions, "toxiproxy "+v)
	}
	e.defaultConc = "?"
	if out, err := output(ctx, h.env(""), h.bins.hoist, "pull", "--help"); err == nil {
		if m := regexp.MustCompile(`--concurrency int.*\(default (\d+)\)`).FindStringSubmatch(out); m != nil {
			e.defaultConc = m[1]
		}
	}
	return e, nil
}

// procField returns the value of the first "key : value" line of a /proc
// file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
