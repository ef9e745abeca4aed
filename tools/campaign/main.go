package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	var (
		campaign = flag.String("campaign", "fault", "fault, crash, or resume (bytes a killed push re-sends)")
		runs     = flag.Int("runs", 300, "number of seeded runs per client")
		first    = flag.Uint64("seed", 1, "first seed; runs use seeds seed .. seed+runs-1")
		parallel = flag.Int("parallel", 4, "runs at once")
		peers    = flag.String("clients", "", "peers to run through the same harness, comma-separated (skopeo, crane)")
		out      = flag.String("out", "", "also write the Markdown report to this file")
		ci       = flag.Bool("ci", false, "exit 1 unless the figures meet issue 16's targets")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *campaign, *runs, *first, *parallel, *peers, *out, *ci); err != nil {
		fmt.Fprintln(os.Stderr, "campaign:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, campaign string, runs int, first uint64, parallel int, peers, out string, ci bool) error {
	dir, err := os.MkdirTemp("", "hoist-campaign-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	e, err := newEnv(ctx, dir)
	if err != nil {
		return err
	}
	defer e.close()
	clients := []client{hoistClient(e.hoist)}
	if peers != "" {
		pc, err := peerClients(strings.Split(peers, ","))
		if err != nil {
			return err
		}
		clients = append(clients, pc...)
	}
	v, err := newVerifier()
	if err != nil {
		return err
	}
	seeds := fmt.Sprintf("%d–%d", first, first+uint64(runs)-1)
	var report string
	var failed error
	switch campaign {
	case "fault":
		results := e.parallelRuns(ctx, parallel, runs, first, clients, func(c client, p plan) result { return e.runFault(ctx, v, c, p) })
		report = faultReport(results, seeds, time.Since(start))
		failed = faultTargets(results)
	case "crash":
		results := e.crashRuns(ctx, v, parallel, runs, first)
		report = crashReport(results, seeds, time.Since(start))
		failed = crashTargets(results)
	case "resume":
		results := e.pushResume(ctx, v)
		report = resumeReport(results)
		for _, r := range results {
			if r.err != "" {
				failed = fmt.Errorf("%s: %s", r.registry, r.err)
			}
		}
	default:
		return fmt.Errorf("-campaign %q: use fault, crash or resume", campaign)
	}
	fmt.Print(report)
	if out != "" {
		if err := os.WriteFile(out, []byte(report), 0o644); err != nil {
			return err
		}
	}
	if ci && failed != nil {
		return failed
	}
	return ctx.Err()
}

// parallelRuns runs every client on every seed, parallel at a time, and
// returns the results in seed order.
func (e *env) parallelRuns(ctx context.Context, parallel, runs int, first uint64, clients []client, one func(client, plan) result) []result {
	type job struct {
		i int
		c client
		p plan
	}
	jobs := make(chan job)
	results := make([]result, runs*len(clients))
	var wg sync.WaitGroup
	for range max(parallel, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				results[j.i] = one(j.c, j.p)
				r := results[j.i]
				fmt.Fprintf(os.Stderr, "%-6s seed %4d %-16s %-5s %-28s %-13s %5.1fs %s\n", r.client, r.plan.seed, r.plan.op, r.plan.image.name, r.plan.where(), r.outcome, r.took.Seconds(), strings.Join(r.struck, "; "))
				if r.outcome != success && r.err != "" {
					fmt.Fprintf(os.Stderr, "       %s\n", r.err)
				}
			}
		}()
	}
	for i := range runs {
		for ci, c := range clients {
			if ctx.Err() != nil {
				break
			}
			jobs <- job{i*len(clients) + ci, c, e.plan(first + uint64(i))}
		}
	}
	close(jobs)
	wg.Wait()
	return results
}

// faultTargets checks issue 16's targets for hoist: no corruption, no
// hang, and at least 98% of runs succeed.
func faultTargets(results []result) error {
	t := tally{}
	for _, r := range results {
		if r.client == "hoist" {
			t[r.outcome]++
		}
	}
	switch {
	case t[corruption] > 0 || t[hang] > 0:
		return fmt.Errorf("hoist: %d corruptions and %d hangs, the target is 0", t[corruption], t[hang])
	case float64(t[success]) < 0.98*float64(t.runs()):
		return fmt.Errorf("hoist: %d of %d runs succeeded, the target is 98%%", t[success], t.runs())
	}
	return nil
}
