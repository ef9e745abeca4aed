package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The floor is the raw transfer a case needs, done by curl with no hashing
// and no bookkeeping: the fastest the registry and the machine allow. Every
// blob moves at once (curl -Z, or one curl pair per blob); the floor knows
// the blob list up front instead of reading the manifest first.

// curls runs curl processes for one floor and adds up what they cost.
type curls struct {
	bin    string
	env    []string
	logDir string

	mu sync.Mutex
	u  usage
	n  int
}

func (c *curls) logFile() (*os.File, error) {
	c.mu.Lock()
	c.n++
	n := c.n
	c.mu.Unlock()
	return os.Create(filepath.Join(c.logDir, fmt.Sprintf("curl-%03d.log", n)))
}

// account records a finished curl; a missing RSS report is an error.
func (c *curls) account(ps *os.ProcessState, statFile string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.u.add(ps, statFile)
}

// command returns a curl (with the base flags and args) under GNU time,
// and the file time reports its peak RSS in.
func (c *curls) command(ctx context.Context, log *os.File, role string, args []string) (*exec.Cmd, string) {
	statFile := strings.TrimSuffix(log.Name(), ".log") + role + ".rss"
	argv := timeWrap(statFile, append(append([]string{c.bin}, curlBase...), args...))
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = c.env
	return cmd, statFile
}

// base are the flags every curl gets: quiet but show errors, fail on HTTP
// errors, and no "Expect: 100-continue" round trip before uploads.
var curlBase = []string{"-sS", "-f", "-H", "Expect:"}

// run runs one curl and returns its stdout.
func (c *curls) run(ctx context.Context, args ...string) (string, error) {
	logf, err := c.logFile()
	if err != nil {
		return "", err
	}
	defer logf.Close()
	cmd, statFile := c.command(ctx, logf, "", args)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, logf
	err = cmd.Run()
	if aerr := c.account(cmd.ProcessState, statFile); err == nil {
		err = aerr
	}
	if err != nil {
		return "", fmt.Errorf("curl %s: %w: %s", strings.Join(args[:min(len(args), 6)], " "), err, logTail(logf.Name()))
	}
	return out.String(), nil
}

// pipe runs "curl GET | curl PUT": the downloaded bytes flow through a pipe
// straight into the upload.
func (c *curls) pipe(ctx context.Context, get, put []string) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	logf, err := c.logFile()
	if err != nil {
		r.Close()
		w.Close()
		return err
	}
	defer logf.Close()
	g, gstat := c.command(ctx, logf, "-get", get)
	p, pstat := c.command(ctx, logf, "-put", put)
	g.Stdout, g.Stderr = w, logf
	p.Stdin, p.Stdout, p.Stderr = r, logf, logf
	if err := g.Start(); err != nil {
		r.Close()
		w.Close()
		return err
	}
	if err := p.Start(); err != nil {
		r.Close()
		w.Close()
		_ = g.Wait()
		return err
	}
	r.Close()
	w.Close()
	gerr, perr := g.Wait(), p.Wait()
	if err := firstErr(gerr, perr, c.account(g.ProcessState, gstat), c.account(p.ProcessState, pstat)); err != nil {
		return fmt.Errorf("curl %s | curl PUT: %w: %s", get[len(get)-1], err, logTail(logf.Name()))
	}
	return nil
}

// parallel runs fn(0) … fn(n-1) at once and returns the first error.
func parallel(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	return firstErr(errs...)
}

// uploadStdin is a curl PUT of its standard input to an upload location.
func uploadStdin(loc string) []string {
	return []string{"-H", "Content-Type: application/octet-stream", "-T", "-", loc, "-o", "/dev/null"}
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// startUploads opens one upload session per blob in repo on host (POSTs in
// one curl, in order) and returns the upload locations.
func (c *curls) startUploads(ctx context.Context, host, repo string, blobs []blobRef) ([]string, error) {
	args := []string{"-X", "POST", "-w", `%header{location}\n`}
	for range blobs {
		args = append(args, "http://"+host+"/v2/"+repo+"/blobs/uploads/", "-o", "/dev/null")
	}
	out, err := c.run(ctx, args...)
	if err != nil {
		return nil, err
	}
	locs := strings.Fields(out)
	if len(locs) != len(blobs) {
		return nil, fmt.Errorf("POST uploads: got %d locations for %d blobs", len(locs), len(blobs))
	}
	for i, l := range locs {
		sep := "?"
		if strings.Contains(l, "?") {
			sep = "&"
		}
		locs[i] = l + sep + "digest=" + blobs[i].digest
	}
	return locs, nil
}

func parallelMax(n int) string { return strconv.Itoa(min(max(n, 1), 50)) }

func blobURL(host, repo, digest string) string {
	return "http://" + host + "/v2/" + repo + "/blobs/" + digest
}

func manifestURL(host, repo, ref string) string {
	return "http://" + host + "/v2/" + repo + "/manifests/" + ref
}

// floorRun times one floor: fn does the transfer with c.
func (h *harness) floorRun(ctx context.Context, logDir string, fn func(c *curls) error) sample {
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return sample{err: err}
	}
	c := &curls{bin: h.bins.curl, env: h.env(""), logDir: logDir}
	start := time.Now()
	err := fn(c)
	return sample{wall: time.Since(start), cpu: c.u.cpu, rss: c.u.rss, err: err}
}

// floorPull GETs the manifest and every blob to files in r.out.
func floorPull(ctx context.Context, c *curls, r run, im image) error {
	if err := os.MkdirAll(r.out, 0o755); err != nil {
		return err
	}
	args := []string{"-Z", "--parallel-max", parallelMax(len(im.blobs) + 1), "-H", "Accept: " + manifestAccept,
		manifestURL(r.src, im.repo, im.tag), "-o", filepath.Join(r.out, "manifest.json")}
	for _, b := range im.blobs {
		args = append(args, blobURL(r.src, im.repo, b.digest), "-o", filepath.Join(r.out, b.digest))
	}
	if _, err := c.run(ctx, args...); err != nil {
		return err
	}
	return verifyFiles(r.out, im.blobs, false)
}

// floorPush POSTs an upload per blob, PUTs every blob file from the layout
// at once, then PUTs the manifest.
func floorPush(ctx context.Context, c *curls, r run, im image) error {
	locs, err := c.startUploads(ctx, r.dst, r.dstRepo, im.blobs)
	if err != nil {
		return err
	}
	args := []string{"-Z", "--parallel-max", parallelMax(len(im.blobs)), "-H", "Content-Type: application/octet-stream"}
	for i, b := range im.blobs {
		args = append(args, "-T", layoutBlob(r.layout, b.digest), locs[i], "-o", "/dev/null")
	}
	if _, err := c.run(ctx, args...); err != nil {
		return err
	}
	_, err = c.run(ctx, "-X", "PUT", "-H", "Content-Type: "+im.mediaType, "--data-binary", "@"+layoutBlob(r.layout, im.digest),
		manifestURL(r.dst, r.dstRepo, bigTag), "-o", "/dev/null")
	return err
}

func layoutBlob(layout, digest string) string {
	return filepath.Join(layout, "blobs", strings.Replace(digest, ":", string(filepath.Separator), 1))
}

// floorMount mounts every blob from the source repository (POST ?mount, all
// at once), then copies the manifest.
func floorMount(ctx context.Context, c *curls, r run, im image) error {
	args := []string{"-Z", "--parallel-max", parallelMax(len(im.blobs)), "-X", "POST", "-w", `%{http_code}\n`}
	for _, b := range im.blobs {
		args = append(args, "http://"+r.dst+"/v2/"+r.dstRepo+"/blobs/uploads/?mount="+b.digest+"&from="+im.repo, "-o", "/dev/null")
	}
	out, err := c.run(ctx, args...)
	if err != nil {
		return err
	}
	for _, code := range strings.Fields(out) {
		if code != "201" {
			return fmt.Errorf("mount answered %s, not 201 Created", code)
		}
	}
	return copyManifest(ctx, c, r, im, r.dstRepo, bigTag)
}

// copyManifest pipes a manifest GET from the source into a PUT on the target.
func copyManifest(ctx context.Context, c *curls, r run, im image, dstRepo, tag string) error {
	return c.pipe(ctx,
		[]string{"-H", "Accept: " + im.mediaType, manifestURL(r.src, im.repo, im.tag)},
		[]string{"-X", "PUT", "-H", "Content-Type: " + im.mediaType, "--data-binary", "@-", manifestURL(r.dst, dstRepo, tag), "-o", "/dev/null"})
}

// floorCopy opens an upload per blob on the target, then pipes every blob's
// GET into its PUT (one curl pair per blob, all at once), then the manifest.
func floorCopy(ctx context.Context, c *curls, r run, im image) error {
	locs, err := c.startUploads(ctx, r.dst, r.dstRepo, im.blobs)
	if err != nil {
		return err
	}
	if err := parallel(len(im.blobs), func(i int) error {
		return c.pipe(ctx, []string{blobURL(r.src, im.repo, im.blobs[i].digest)}, uploadStdin(locs[i]))
	}); err != nil {
		return err
	}
	return copyManifest(ctx, c, r, im, r.dstRepo, bigTag)
}

// floorAllTags is the all-tags equivalent: one curl downloads every unique
// blob and every manifest to disk, one opens the uploads, one uploads every
// blob, one uploads every manifest under its tag.
func floorAllTags(ctx context.Context, c *curls, r run, tags []image) error {
	if err := os.MkdirAll(r.out, 0o755); err != nil {
		return err
	}
	blobs := uniqueBlobs(tags)
	get := []string{"-Z", "--parallel-max", parallelMax(len(blobs) + len(tags)), "-H", "Accept: " + manifestAccept}
	for _, im := range tags {
		get = append(get, manifestURL(r.src, im.repo, im.tag), "-o", filepath.Join(r.out, "manifest-"+im.tag))
	}
	for _, b := range blobs {
		get = append(get, blobURL(r.src, tags[0].repo, b.digest), "-o", filepath.Join(r.out, b.digest))
	}
	if _, err := c.run(ctx, get...); err != nil {
		return err
	}
	locs, err := c.startUploads(ctx, r.dst, r.dstRepo, blobs)
	if err != nil {
		return err
	}
	put := []string{"-Z", "--parallel-max", parallelMax(len(blobs)), "-H", "Content-Type: application/octet-stream"}
	for i, b := range blobs {
		put = append(put, "-T", filepath.Join(r.out, b.digest), locs[i], "-o", "/dev/null")
	}
	if _, err := c.run(ctx, put...); err != nil {
		return err
	}
	man := []string{"-Z", "--parallel-max", parallelMax(len(tags)), "-H", "Content-Type: " + tags[0].mediaType}
	for _, im := range tags {
		man = append(man, "-T", filepath.Join(r.out, "manifest-"+im.tag), manifestURL(r.dst, r.dstRepo, im.tag), "-o", "/dev/null")
	}
	_, err = c.run(ctx, man...)
	return err
}
