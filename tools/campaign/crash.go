package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hoist-dev/hoist/internal/testutil"
)

var crashOps = []string{opPullLayout, opPush, opCopy}

// crashResult is one run of the crash campaign.
type crashResult struct {
	plan       plan
	killAt     time.Duration
	killed     bool   // the process was still running when it was killed
	inTag      bool   // it was killed while its tag PUT was under way
	partial    string // what the watcher saw that it must not, or ""
	rerunErr   string // why the re-run failed, or ""
	verified   bool   // the re-run completed and the target verifies
	staged     bool   // a pull's kill left bytes staged
	resumed    bool   // the pull's re-run asked for the rest with Range
	reuploaded int64  // bytes a push or copy's re-run uploaded
	total      int64  // the image's blob bytes
}

func (e *env) crashPlan(seed uint64) plan {
	p := plan{seed: seed, op: crashOps[seed%3], image: e.images[(seed/3)%2]}
	a, b := e.regs[(seed/6)%2], e.regs[(seed/6+1)%2]
	p.place(a, b)
	return p
}

// crashRate is the throttle's bytes per second: an image takes a few
// seconds, so the kill lands in the middle of it.
const crashRate = 600 << 10

func (e *env) crashRuns(ctx context.Context, v *verifier, parallel, runs int, first uint64) []crashResult {
	out := make([]crashResult, runs)
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(parallel, 1))
	for i := range runs {
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			r := e.crashOne(ctx, v, e.crashPlan(first+uint64(i)))
			out[i] = r
			fmt.Fprintf(os.Stderr, "crash seed %4d %-16s %-5s %-28s kill at %5.2fs killed=%-5v partial=%q verified=%v staged=%v resumed=%v reuploaded=%d/%d %s\n",
				r.plan.seed, r.plan.op, r.plan.image.name, r.plan.where(), r.killAt.Seconds(), r.killed, r.partial, r.verified, r.staged, r.resumed, r.reuploaded, r.total, r.rerunErr)
		}()
	}
	wg.Wait()
	return out
}

func (e *env) crashOne(ctx context.Context, v *verifier, p plan) crashResult {
	res := crashResult{plan: p}
	for _, b := range p.image.img.Blobs {
		res.total += int64(len(b))
	}
	dir := filepath.Join(e.dir, fmt.Sprintf("crash-%d", p.seed))
	os.MkdirAll(dir, 0o755)
	defer os.RemoveAll(dir)
	th := newThrottle(crashRate, 500*time.Millisecond)
	px := &proxies{}
	defer px.close()
	var err error
	if p.src != nil {
		if px.src, err = testutil.StartFaultProxy("http://"+p.src.host, th.fault()); err != nil {
			res.rerunErr = err.Error()
			return res
		}
	}
	if p.dst != nil {
		if px.dst, err = testutil.StartFaultProxy("http://"+p.dst.host, th.fault()); err != nil {
			res.rerunErr = err.Error()
			return res
		}
	}
	loc := p.locations(px, dir, "crash")
	verb := map[string]string{opPullLayout: "pull", opPush: "push", opCopy: "copy"}[p.op]
	argv := []string{e.hoist, "-q", verb, loc.src, loc.dst}
	envv := clientEnv(dir)

	// The kill: a fraction of the throttled transfer time drawn from the
	// seed, from early in the first blob to past the tag write.
	h := fnv.New64a()
	fmt.Fprintf(h, "crash %d", p.seed)
	frac := 0.05 + float64(h.Sum64()%1000)/1000*1.1
	// Blobs move over several connections at once, each throttled.
	est := time.Duration(0.6 * float64(res.total) / crashRate * float64(time.Second))
	res.killAt = time.Duration(frac * float64(est))

	watchCtx, stopWatch := context.WithCancel(ctx)
	var mu sync.Mutex
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for watchCtx.Err() == nil {
			cctx, cancel := context.WithTimeout(watchCtx, 10*time.Second)
			err := v.check(cctx, loc.verify, loc.ref, p.image, false)
			cancel()
			if err != nil && !errors.Is(err, errNoTag) && watchCtx.Err() == nil {
				mu.Lock()
				if res.partial == "" {
					res.partial = err.Error()
				}
				mu.Unlock()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	var stderr bytes.Buffer
	cmd := clientCmd(argv, envv, &stderr)
	if err := cmd.Start(); err != nil {
		stopWatch()
		res.rerunErr = err.Error()
		return res
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(res.killAt):
		res.killed = true
		res.inTag = th.tagging.Load() > 0
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	stopWatch()
	<-watched
	// What the kill left behind must not be partial either.
	if err := v.check(ctx, loc.verify, loc.ref, p.image, false); err != nil && !errors.Is(err, errNoTag) && res.partial == "" {
		res.partial = "after the kill: " + err.Error()
	}
	if p.op == opPullLayout {
		res.staged = stagedBytes(filepath.Join(dir, "out")) > 0
	}

	// The re-run: the same command, through the same throttled proxies.
	th.quiesce()
	th.uploaded.Store(0)
	th.ranges.Store(0)
	if err := rerun(argv, envv, &stderr); err != nil {
		res.rerunErr = fmt.Sprintf("the re-run failed (%v): %s", err, lastLine(stderr.String()))
		return res
	}
	if err := v.check(ctx, loc.verify, loc.ref, p.image, false); err != nil {
		res.rerunErr = "the re-run succeeded, but the target does not verify: " + err.Error()
		return res
	}
	res.verified = true
	res.resumed = th.ranges.Load() > 0
	res.reuploaded = th.uploaded.Load()
	return res
}

// runBounded runs cmd, killing its process group after limit.
func runBounded(cmd *exec.Cmd, limit time.Duration) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	t := time.AfterFunc(limit, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	defer t.Stop()
	return cmd.Wait()
}

// stagedBytes is what a layout's staging directory holds of blobs to
// resume (ALG-HEX.partial files), not temporaries.
func stagedBytes(layout string) int64 {
	var n int64
	filepath.Walk(filepath.Join(layout, ".hoist-tmp"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.HasSuffix(p, ".partial") {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func crashReport(results []crashResult, seeds string, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Crash campaign: seeds %s, %d runs, %s.\n\n", seeds, len(results), took.Round(time.Second))
	b.WriteString("| operation | runs | killed mid-run | of them in the tag write | partial state seen | re-runs complete and verify | pulls that left bytes staged / resumed with Range | bytes re-uploaded by re-runs (of the image's) |\n|---|---|---|---|---|---|---|---|\n")
	for _, op := range append(crashOps, "all") {
		var n, killed, inTag, partial, ok, staged, resumed int
		var up, total int64
		for _, r := range results {
			if r.plan.op == "" || (op != "all" && r.plan.op != op) {
				continue
			}
			n++
			if r.killed {
				killed++
			}
			if r.inTag {
				inTag++
			}
			if r.partial != "" {
				partial++
			}
			if r.verified {
				ok++
			}
			if r.staged {
				staged++
				if r.resumed {
					resumed++
				}
			}
			if r.plan.op != opPullLayout && r.killed {
				up += r.reuploaded
				total += r.total
			}
		}
		name, upc, st := op, "–", "–"
		if op == "all" {
			name = "**all**"
		}
		if total > 0 {
			upc = fmt.Sprintf("%.0f%%", 100*float64(up)/float64(total))
		}
		if op == opPullLayout || op == "all" {
			st = fmt.Sprintf("%d / %d", staged, resumed)
		}
		tagCell := fmt.Sprint(inTag)
		if op == opPullLayout {
			tagCell = "–" // a layout's tag is one rename
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %d | %d (%.0f%%) | %s | %s |\n", name, n, killed, tagCell, partial, ok, 100*float64(ok)/float64(max(n, 1)), st, upc)
	}
	var bad []string
	for _, r := range results {
		if r.partial != "" || !r.verified {
			bad = append(bad, fmt.Sprintf("| %d | %s %s, %s | %.2fs | %s | %s |", r.plan.seed, r.plan.op, r.plan.image.name, r.plan.where(), r.killAt.Seconds(), cell(r.partial), cell(r.rerunErr)))
		}
	}
	if len(bad) > 0 {
		b.WriteString("\nRuns that did not meet the targets:\n\n| seed | run | kill at | partial state seen | re-run |\n|---|---|---|---|---|\n")
		b.WriteString(strings.Join(bad, "\n") + "\n")
	}
	return b.String()
}

// crashTargets: nothing partial ever visible, every re-run completes and
// verifies.
func crashTargets(results []crashResult) error {
	for _, r := range results {
		if r.plan.op == "" {
			continue
		}
		if r.partial != "" {
			return fmt.Errorf("seed %d: partial state visible: %s", r.plan.seed, r.partial)
		}
		if !r.verified {
			return fmt.Errorf("seed %d: %s", r.plan.seed, r.rerunErr)
		}
	}
	return nil
}
