package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Outcomes of a run.
const (
	success    = "success"
	cleanFail  = "clean failure"
	corruption = "corruption"
	hang       = "hang"
	notRun     = "not run"
)

// result is one run of one client.
type result struct {
	client  string
	plan    plan
	outcome string
	struck  []string // the faults that struck
	err     string   // the client's last stderr line, or the verifier's finding
	took    time.Duration
}

// hangAfter is when a run counts as hung: far beyond the longest honest
// run (stall faults are held at most 20 s, each client bounds its waits).
const hangAfter = 3 * time.Minute

// emptyDir is a fresh empty directory, for a config or cache nobody shares.
func emptyDir() string {
	d, err := os.MkdirTemp("", "campaign-")
	if err != nil {
		panic(err)
	}
	return d
}

// clientEnv is the environment of a client run whose home, config, cache
// and state are under dir, so that no run sees another's.
func clientEnv(dir string) []string {
	return append(os.Environ(), "HOME="+dir, "DOCKER_CONFIG="+filepath.Join(dir, "docker"), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"), "XDG_STATE_HOME="+filepath.Join(dir, "state"))
}

// clientCmd is argv with env in its own process group, so that a kill of
// the group takes its children too; its output goes to out.
func clientCmd(argv, env []string, out *bytes.Buffer) *exec.Cmd {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout, cmd.Stderr = out, out
	return cmd
}

// rerun runs a killed client's argv again, bounded by hangAfter, its
// output in out (reset first). With CAMPAIGN_VERBOSE set it runs verbose
// (-v in place of argv[1], the -q) and prints that output.
func rerun(argv, env []string, out *bytes.Buffer) error {
	if os.Getenv("CAMPAIGN_VERBOSE") != "" {
		argv = append([]string{argv[0], "-v"}, argv[2:]...)
		defer func() { fmt.Fprintln(os.Stderr, out.String()) }()
	}
	out.Reset()
	return runBounded(clientCmd(argv, env, out), hangAfter)
}

// runFault runs p with c through fault proxies and classifies it.
func (e *env) runFault(ctx context.Context, v *verifier, c client, p plan) result {
	res := result{client: c.name, plan: p}
	dir := filepath.Join(e.dir, fmt.Sprintf("run-%s-%d", c.name, p.seed))
	os.MkdirAll(dir, 0o755)
	defer os.RemoveAll(dir)
	px, err := p.proxies()
	if err != nil {
		res.outcome, res.err = notRun, err.Error()
		return res
	}
	defer px.close()
	loc := p.locations(px, dir, c.name)
	src, dst, verifyLoc, ref, archive := loc.src, loc.dst, loc.verify, loc.ref, loc.archive
	if p.op == opPullLayout && c.taglessLayout {
		ref = ""
	}
	argv := c.argv(p.op, p, src, dst)
	if argv == nil {
		res.outcome = notRun
		return res
	}
	var stderr bytes.Buffer
	cmd := clientCmd(argv, append(clientEnv(dir), "XDG_RUNTIME_DIR="+dir, "REGISTRY_AUTH_FILE="+filepath.Join(dir, "auth.json")), &stderr)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		res.outcome, res.err = notRun, err.Error()
		return res
	}
	var hung atomic.Bool
	timer := time.AfterFunc(hangAfter, func() { hung.Store(true); syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	runErr := cmd.Wait()
	timer.Stop()
	res.took = time.Since(start)
	res.struck = px.struck()
	if hung.Load() {
		res.outcome, res.err = hang, fmt.Sprintf("killed after %s", hangAfter)
		return res
	}
	vctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	verr := v.check(vctx, verifyLoc, ref, p.image, archive)
	switch {
	case runErr == nil && verr == nil:
		res.outcome = success
	case runErr == nil:
		res.outcome, res.err = corruption, "reported success, but the target is wrong: "+verr.Error()
	case verr == nil || errors.Is(verr, errNoTag):
		res.outcome, res.err = cleanFail, lastLine(stderr.String())
	default:
		res.outcome, res.err = corruption, "failed, and left a tag on bad content: "+verr.Error()
	}
	return res
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := lines[len(lines)-1]
	if len(l) > 2000 {
		l = l[:2000] + "…"
	}
	return l
}

// shortPath keeps a request path readable in a report: digests and upload
// ids cut short.
func shortPath(p string) string {
	if i := strings.Index(p, "?"); i >= 0 {
		p = p[:i]
	}
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, "sha256:") && len(s) > 19 {
			parts[i] = s[:19]
		} else if len(s) > 24 {
			parts[i] = s[:8] + "…"
		}
	}
	return strings.Join(parts, "/")
}

// locations are where a run reads and writes, in hoist's syntax, and
// where the verifier looks (without the proxies).
type locations struct {
	src, dst, verify, ref string
	archive               bool
}

func (p plan) locations(px *proxies, dir, client string) locations {
	repo := fmt.Sprintf("run/%s-%d/%s", client, p.seed, p.image.name)
	var l locations
	switch p.op {
	case opPullLayout:
		l.src, l.dst = px.src.Host+"/src/"+p.image.name+":v1", "oci:"+filepath.Join(dir, "out")+":v1"
		l.verify, l.ref = "oci:"+filepath.Join(dir, "out"), "v1"
	case opPullArchive:
		file := filepath.Join(dir, "out.tar")
		l.src, l.dst = px.src.Host+"/src/"+p.image.name+":v1", "docker-archive:"+file
		l.verify, l.archive = "docker-archive:"+file, true
	case opPush:
		l.src, l.dst = "oci:"+p.image.layout+":v1", px.dst.Host+"/"+repo+":v1"
		l.verify, l.ref = p.dst.host+"/"+repo+":v1", "v1"
	case opCopy:
		l.src, l.dst = px.src.Host+"/src/"+p.image.name+":v1", px.dst.Host+"/"+repo+":v1"
		l.verify, l.ref = p.dst.host+"/"+repo+":v1", "v1"
	}
	return l
}
