package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	lib "github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/syncer"
)

type syncFlags struct {
	dryRun      bool
	prune       bool
	fast        bool
	keepGoing   bool
	statePath   string
	noState     bool
	interval    time.Duration
	listen      string
	scoped      bool
	concurrency int
	images      int
	printConfig bool
}

func (a *App) syncCommand() *cobra.Command {
	var f syncFlags
	cmd := &cobra.Command{
		Use:   "sync CONFIG [DESTINATION]",
		Short: "Mirror many repositories as a YAML config lists them",
		Long: `Sync mirrors the repositories CONFIG lists into their targets: registries
(a host with a prefix) or OCI layout directories (oci:DIR, one layout per
repository, for carrying into an air-gapped network). Each entry names a
source (a registry with repositories: or catalog patterns in match:, or an
oci:DIR tree), a target, tag filters (allow and deny patterns, a semver
range, the latest N versions, digest pins), platforms and referrers;
hosts: sets per-registry concurrency and request rates. docs/sync.md is
the reference. A config:

  sync:
    - source: docker.io/library          # registry[/prefix], or oci:DIR
      repositories: [alpine, busybox]    # or match: ['app-.*'] (the catalog)
      target: registry.internal/hub      # hub/alpine, hub/busybox; or oci:DIR
      tags: {semver: ">=3.18", latest: 5, deny: ['.*-rc.*']}
      platforms: [linux/amd64, linux/arm64]
  hosts:
    docker.io: {concurrency: 4, reserve: 10}   # requests at once; quota kept

CONFIG may also be a skopeo sync YAML file, unchanged (registries at the
top level with images:, images-by-tag-regex:, images-by-semver:); give the
DESTINATION skopeo sync takes (a registry[/prefix] or oci:DIR), and
--scoped as skopeo has it. --print-config shows it in hoist's format.

A state file remembers each source tag's digest and what each target tag
holds, so a run whose sources have not moved lists each repository's tags
once, sends one HEAD per tag and asks the targets nothing; --fast trusts
the state without even the HEADs. HEAD is used instead of GET wherever it
will do (Docker Hub counts GETs). When a registry reports its quota
(RateLimit-Limit, RateLimit-Remaining, Retry-After), hoist pauses before
it runs out, not after a 429, and says how long and why on stderr.

A failing tag or repository does not stop the others. The summary counts
what was copied, skipped, deleted and failed, and lists every failure;
the exit code is 1 when anything failed. --dry-run prints the plan and
writes nothing. --prune deletes target tags the source no longer has,
only among the tags the sync wrote or its filters select. --interval D
runs again every D until SIGTERM, logging each run's summary (one JSON
document per line with --json) and, with --listen, serving the last
result as JSON at http://ADDR/status.`,
		Example: `  hoist sync mirror.yaml
  hoist sync --dry-run --json mirror.yaml
  hoist sync --prune --interval 1h --listen 127.0.0.1:9091 mirror.yaml
  hoist sync skopeo-sync.yaml registry.internal/mirror     # skopeo sync's format
  hoist sync skopeo-sync.yaml oci:/media/usb/mirror          # air-gapped: layouts on a disk`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error { return a.runSync(cmd.Context(), f, args) },
	}
	fs := cmd.Flags()
	fs.BoolVar(&f.dryRun, "dry-run", false, "print what would be copied, skipped and deleted, and write nothing")
	fs.BoolVar(&f.prune, "prune", false, "delete target tags gone from the source (only tags the sync wrote or its filters select)")
	fs.BoolVar(&f.fast, "fast", false, "trust the state for tags it knows: no HEAD per tag (a moved source tag goes unnoticed)")
	fs.BoolVar(&f.keepGoing, "keep-going", true, "go on after a failing tag or repository (--keep-going=false stops at the first)")
	fs.StringVar(&f.statePath, "state", "", "state file (default: under $XDG_STATE_HOME/hoist/sync, one per config file)")
	fs.BoolVar(&f.noState, "no-state", false, "neither read nor write a state file: check every tag against the target")
	fs.DurationVar(&f.interval, "interval", 0, "run again every D (e.g. 1h) until SIGTERM")
	fs.StringVar(&f.listen, "listen", "", "with --interval, serve the last result as JSON at http://ADDR/status (e.g. 127.0.0.1:9091)")
	fs.BoolVar(&f.scoped, "scoped", false, "skopeo format: name target repositories HOST/PATH, as skopeo sync --scoped")
	fs.IntVar(&f.concurrency, "concurrency", 0, "blobs of 1 MiB or more each copy moves at once (default: the copy engine's)")
	fs.IntVar(&f.images, "images", 0, "images copied at once across the run (default: the config's defaults.images, or 16)")
	fs.BoolVar(&f.printConfig, "print-config", false, "print the config as hoist reads it (a skopeo file translated) and exit")
	return cmd
}

func (a *App) runSync(ctx context.Context, f syncFlags, args []string) error {
	cfg, err := syncer.Load(args[0])
	if err != nil {
		return usageError{err}
	}
	if len(args) == 2 {
		if err := cfg.SetTarget(args[1], f.scoped); err != nil {
			return usageError{fmt.Errorf("sync config %s: %w", args[0], err)}
		}
	} else if cfg.Format == "skopeo" {
		return usagef("%s is in skopeo sync's format, which names no target: give one, as skopeo sync's DESTINATION (hoist sync %s REGISTRY/PREFIX, or oci:DIR)", args[0], args[0])
	}
	if len(cfg.CertDirs) > 0 {
		for h, d := range cfg.CertDirs {
			return usagef("%s: cert-dir %s for %s: hoist reads TLS files from certs.d directories; pass --certs-dir DIR where DIR/%s holds them (a link to %s will do)", args[0], d, h, h, d)
		}
	}
	if f.images < 0 {
		return usagef("--images %d: give a positive number", f.images)
	}
	if f.images > 0 {
		cfg.Defaults.Images = f.images
	}
	if f.listen != "" && f.interval == 0 {
		return usagef("--listen serves the last result of a long-lived sync: give --interval too")
	}
	if f.printConfig {
		b, err := cfg.Marshal()
		if err != nil {
			return err
		}
		_, err = a.stdout.Write(b)
		return err
	}
	session := a.session
	if extra := lib.SyncSessionOptions(cfg, a.configDir); len(extra) > 0 {
		if session, err = lib.NewSession(append(append([]lib.Option(nil), a.sessionOpts...), extra...)...); err != nil {
			return err
		}
		defer session.Close()
	}
	var opts []syncer.Option
	if !f.noState {
		path := f.statePath
		if path == "" {
			if path, err = defaultStatePath(args[0]); err != nil {
				return err
			}
		}
		st, err := syncer.OpenState(path)
		if err != nil {
			return err
		}
		opts = append(opts, syncer.WithState(st))
	}
	if f.fast {
		opts = append(opts, syncer.WithFast())
	}
	if f.prune {
		opts = append(opts, syncer.WithPrune())
	}
	if f.dryRun {
		opts = append(opts, syncer.WithDryRun())
	}
	if !f.keepGoing {
		opts = append(opts, syncer.WithStopOnError())
	}
	if f.concurrency < 0 {
		return usagef("--concurrency %d: give a positive number", f.concurrency)
	}
	if f.concurrency > 0 {
		opts = append(opts, syncer.WithConcurrency(f.concurrency))
	}
	opts = append(opts, syncer.WithProgress(a.syncProgress(f.dryRun)))
	sy, err := session.NewSyncer(cfg, opts...)
	if err != nil {
		return usageError{err}
	}
	if f.interval > 0 {
		return a.syncEvery(ctx, session, sy, f)
	}
	res, err := sy.Run(ctx)
	a.saveBlobCache(session, res)
	if res != nil {
		if perr := a.printSyncResult(res, f.dryRun); perr != nil && err == nil {
			err = perr
		}
	}
	if err != nil {
		return err
	}
	if res.Failed > 0 {
		return quietFailure{fmt.Errorf("%d failed", res.Failed)}
	}
	return nil
}

// saveBlobCache saves where the run's copies saw blobs; a run that
// copied nothing learnt nothing, and does not rewrite the file.
func (a *App) saveBlobCache(session *lib.Session, res *syncer.Result) {
	if res == nil || res.Copied == 0 {
		return
	}
	if err := session.SaveBlobCache(); err != nil {
		a.warn(err)
	}
}

// quietFailure exits 1 with its message, the details having been printed.
type quietFailure struct{ err error }

func (q quietFailure) Error() string { return "sync: " + q.err.Error() }

// defaultStatePath is the state file of config: one per config file, by
// its absolute path, under the XDG state directory.
func defaultStatePath(config string) (string, error) {
	abs, err := filepath.Abs(config)
	if err != nil {
		return "", err
	}
	base := lib.DefaultUploadStateDir()
	if base == "" {
		return "", usagef("no state directory ($XDG_STATE_HOME or a home directory): give --state FILE, or --no-state")
	}
	sum := sha256.Sum256([]byte(abs))
	name := strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs)) + "-" + hex.EncodeToString(sum[:6]) + ".json"
	return filepath.Join(filepath.Dir(base), "sync", name), nil
}

// syncProgress prints, on stderr, a line per image copied, deleted or
// failed and per rate-limit pause; nothing with -q or --json but the
// pauses, which are always said.
func (a *App) syncProgress(dryRun bool) func(syncer.Event) {
	var mu sync.Mutex
	return func(e syncer.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Kind {
		case syncer.EventWait:
			if a.jsonOut {
				b, _ := json.Marshal(map[string]any{"wait": e.Wait})
				fmt.Fprintf(a.stderr, "%s\n", b)
				return
			}
			fmt.Fprintln(a.stderr, e.Wait.String())
		case syncer.EventItem:
			if a.quiet || a.jsonOut || dryRun {
				return
			}
			it := e.Item
			switch it.Action {
			case syncer.ActionCopy:
				fmt.Fprintf(a.stderr, "copied  %s  %s (%s; %d blobs: %d copied, %d mounted; %s)\n", itemName(it), shortDigest(it.Digest), it.Reason, it.Blobs, it.Copied, it.Mounted, content.HumanSize(it.Bytes))
			case syncer.ActionDelete:
				fmt.Fprintf(a.stderr, "deleted %s  %s (%s)\n", itemName(it), shortDigest(it.Digest), it.Reason)
			case syncer.ActionFail:
				fmt.Fprintf(a.stderr, "FAILED  %s: %s: %s\n", itemName(it), it.Reason, it.Error)
			case syncer.ActionSkip:
				if a.verbose {
					fmt.Fprintf(a.stderr, "skipped %s (%s)\n", itemName(it), it.Reason)
				}
			}
		}
	}
}

func itemName(it *syncer.Item) string {
	switch {
	case it.Tag != "":
		return it.Target + ":" + it.Tag
	case it.Digest != "":
		return it.Target + "@" + it.Digest.String()
	}
	return it.Target
}

func shortDigest(d interface{ String() string }) string {
	s := d.String()
	if i := strings.IndexByte(s, ':'); i >= 0 && len(s) > i+13 {
		return s[:i+13]
	}
	return s
}

// printSyncResult prints the plan or the summary: JSON with --json; else
// the plan's lines (dry run), then counts, requests and every failure.
func (a *App) printSyncResult(res *syncer.Result, dryRun bool) error {
	if a.jsonOut {
		return a.printJSON(res)
	}
	if dryRun {
		for i := range res.Items {
			it := &res.Items[i]
			verb := map[syncer.Action]string{syncer.ActionCopy: "copy  ", syncer.ActionSkip: "skip  ", syncer.ActionDelete: "delete", syncer.ActionFail: "FAILED"}[it.Action]
			line := fmt.Sprintf("%s %s", verb, itemName(it))
			if it.Action == syncer.ActionCopy {
				line += "  <- " + it.Source
			}
			line += "  (" + it.Reason
			if it.Error != "" {
				line += ": " + it.Error
			}
			fmt.Fprintln(a.stdout, line+")")
		}
	}
	if a.quiet {
		return nil
	}
	what := "synced"
	if dryRun {
		what = "plan:"
	}
	repos := "repositories"
	if res.Repositories == 1 {
		repos = "repository"
	}
	fmt.Fprintf(a.stdout, "%s %d %s: %d copied, %d skipped, %d deleted, %d failed; %s transferred in %s\n",
		what, res.Repositories, repos, res.Copied, res.Skipped, res.Deleted, res.Failed, content.HumanSize(res.Bytes), res.Duration.Round(time.Millisecond))
	for _, h := range res.Requests {
		fmt.Fprintf(a.stdout, "  %s: %d requests (%s)\n", h.Host, h.Total, kindsLine(h.Kinds))
	}
	if len(res.Waits) > 0 {
		fmt.Fprintf(a.stdout, "  paused %d times for rate limits\n", len(res.Waits))
	}
	if f := res.Failures(); len(f) > 0 && !dryRun {
		fmt.Fprintln(a.stdout, "failures:")
		for i := range f {
			fmt.Fprintf(a.stdout, "  %s: %s: %s\n", itemName(&f[i]), f[i].Reason, f[i].Error)
		}
	}
	return nil
}

func kindsLine(kinds map[string]int) string {
	order := []string{syncer.KindPing, syncer.KindCatalog, syncer.KindTags, syncer.KindManifestHEAD, syncer.KindManifestGET,
		syncer.KindManifestPUT, syncer.KindManifestDEL, syncer.KindReferrers, syncer.KindBlobHEAD, syncer.KindBlobGET, syncer.KindUpload, syncer.KindOther}
	var parts []string
	for _, k := range order {
		if n := kinds[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	return strings.Join(parts, ", ")
}

// syncEvery is --interval: a run every f.interval until the context ends
// (SIGTERM), each logged, the last served with --listen.
func (a *App) syncEvery(ctx context.Context, session *lib.Session, sy *syncer.Syncer, f syncFlags) error {
	var mu sync.Mutex
	var last *syncer.Result
	if f.listen != "" {
		ln, err := net.Listen("tcp", f.listen)
		if err != nil {
			return usagef("--listen %s: %v", f.listen, err)
		}
		srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/status":
				mu.Lock()
				res := last
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				if res == nil {
					w.WriteHeader(http.StatusServiceUnavailable)
					fmt.Fprintln(w, `{"message":"the first run has not finished"}`)
					return
				}
				json.NewEncoder(w).Encode(res)
			case "/healthz":
				fmt.Fprintln(w, "ok")
			default:
				http.NotFound(w, r)
			}
		})}
		go srv.Serve(ln)
		defer srv.Close()
		fmt.Fprintf(a.stderr, "serving the last result at http://%s/status\n", ln.Addr())
	}
	err := sy.RunEvery(ctx, f.interval, func(res *syncer.Result, err error) {
		a.saveBlobCache(session, res)
		mu.Lock()
		last = res
		mu.Unlock()
		if a.jsonOut {
			b, _ := json.Marshal(res)
			fmt.Fprintf(a.stdout, "%s\n", b)
		} else {
			fmt.Fprintf(a.stdout, "%s ", res.Started.UTC().Format(time.RFC3339))
			a.printSyncResult(res, f.dryRun)
		}
		if err != nil {
			a.warn(err)
		}
	})
	if err == nil && ctx.Err() != nil {
		fmt.Fprintln(a.stderr, "sync: stopped")
	}
	if err != nil && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
