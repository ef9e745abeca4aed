package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The sync benchmark's floor: curl sending the no-op re-sync's source
// requests and nothing else (each repository's tags listing, then one
// manifest HEAD per selected tag), syncFloorParallel at once in one curl
// process per phase, over the same path as the tools (proxies, profile).
// No tool that checks every tag with the registry can do the no-op in
// less; a target below floor ÷ peer needs fewer requests (--fast) or a
// faster registry.

// syncFloorParallel is the floor's requests in flight: hoist's default
// per host.
const syncFloorParallel = 32

// syncFloorName is the floor's row in the sync tables.
const syncFloorName = "floor"

// syncFloor times curl doing the no-op's source requests against src.
func (h *harness) syncFloor(ctx context.Context, fx *syncFixture, src *endpoint, i int) sample {
	dir := filepath.Join(h.work, "runs", h.prof.name, "sync", fmt.Sprintf("floor-run%d", i+1))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return sample{err: err}
	}
	var lists, heads strings.Builder
	for _, r := range fx.repos {
		fmt.Fprintf(&lists, "url = \"http://%s/v2/%s/tags/list\"\noutput = \"/dev/null\"\n", src.addr, r)
		for _, tag := range fx.tags {
			if syncSelected(tag) {
				fmt.Fprintf(&heads, "url = \"http://%s/v2/%s/manifests/%s\"\noutput = \"/dev/null\"\n", src.addr, r, tag)
			}
		}
	}
	lp, hp := filepath.Join(dir, "lists.cfg"), filepath.Join(dir, "heads.cfg")
	if err := os.WriteFile(lp, []byte(lists.String()), 0o644); err != nil {
		return sample{err: err}
	}
	if err := os.WriteFile(hp, []byte(heads.String()), 0o644); err != nil {
		return sample{err: err}
	}
	accept := "Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json"
	curl := []string{h.bins.curl, "-sSf", "--parallel", "--parallel-max", fmt.Sprint(syncFloorParallel)}
	script := commandLine(append(curl, "-K", lp)) + " && " + commandLine(append(curl, "--head", "-H", accept, "-K", hp))
	src.take()
	s := measure(ctx, proc{argv: []string{"/bin/sh", "-c", script}, env: h.env(""), log: filepath.Join(dir, "floor.log")})
	s.requests = runCounts{"source": src.take()}
	return s
}

// syncFloorMedian is the floor's median no-op time and one run's source
// requests; ok is false when no run finished.
func syncFloorMedian(runs []sample) (d time.Duration, src requestCounts, ok bool) {
	var ds []time.Duration
	for _, f := range runs {
		if f.err != nil || f.wall == 0 {
			return 0, nil, false
		}
		ds = append(ds, f.wall)
		src = f.requests["source"]
	}
	if len(ds) == 0 {
		return 0, nil, false
	}
	return median(ds), src, true
}
