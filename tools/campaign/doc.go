// Command campaign runs issue 16's reliability campaigns against real
// registries on 127.0.0.1 and prints their figures as Markdown:
//
//	go run ./tools/campaign -campaign fault -runs 300    # the full fault campaign
//	go run ./tools/campaign -campaign crash -runs 50     # the full crash campaign
//	go run ./tools/campaign -campaign fault -runs 100 -ci  # what .ci/test runs
//
// The fault campaign runs pull (to an OCI layout and to a docker archive),
// push (from a layout) and registry-to-registry copy of a multi-layer
// image and of a multi-platform index, against Debian's docker-registry
// (distribution 2.8) and hoist serve, each run through fault proxies
// (internal/testutil) that strike at most two requests with faults drawn
// from the run's seed and each request's identity. A verifier then reads
// the target without the proxy and classifies the run: success, clean
// failure (an error, and no tag on missing or bad content), corruption,
// or hang. -clients adds peers (skopeo, crane, regctl) to the same runs.
//
// The crash campaign kills pull, push and copy with SIGKILL at a moment
// drawn from the seed, behind a throttled proxy so that the kill lands in
// the middle of transfers and in the tag-writing window; a watcher reads
// the target throughout and flags anything partial it can see; the same
// command is then run again, must complete, and the target must verify.
//
// Every process it starts listens on 127.0.0.1 and is stopped by its PID.
package main
