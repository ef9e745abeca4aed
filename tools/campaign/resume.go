package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store/ocilayout"
)

// resumeResult is one measurement of a push killed half way.
type resumeResult struct {
	registry           string
	layer              int64
	beforeKill, resent int64
	err                string
}

// resumeLayerSize is the layer the issue measures with: 100 MB.
const resumeLayerSize = 100_000_000

// pushResume pushes a one-layer image of 100 MB to each registry through
// a throttled proxy, SIGKILLs hoist once half the layer has gone up, runs
// the same push again and counts the upload bytes the re-run sends.
func (e *env) pushResume(ctx context.Context, v *verifier) []resumeResult {
	layout, img, err := e.bigLayout(ctx)
	if err != nil {
		return []resumeResult{{err: err.Error()}}
	}
	var out []resumeResult
	for _, r := range e.regs {
		out = append(out, e.pushResumeOne(ctx, v, r, layout, img))
	}
	return out
}

func (e *env) pushResumeOne(ctx context.Context, v *verifier, r *registry, layout string, img *image) resumeResult {
	res := resumeResult{registry: r.name, layer: resumeLayerSize}
	dir := filepath.Join(e.dir, "resume-"+r.name)
	os.MkdirAll(dir, 0o755)
	defer os.RemoveAll(dir)
	th := newThrottle(25<<20, 0)
	px, err := testutil.StartFaultProxy("http://"+r.host, th.fault())
	if err != nil {
		res.err = err.Error()
		return res
	}
	defer px.Close()
	dst := px.Host + "/resume/big:v1"
	argv := []string{e.hoist, "-q", "push", "oci:" + layout + ":v1", dst}
	envv := clientEnv(dir)
	var stderr bytes.Buffer
	cmd := clientCmd(argv, envv, &stderr)
	if err := cmd.Start(); err != nil {
		res.err = err.Error()
		return res
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case err := <-done:
			res.err = fmt.Sprintf("the push ended (%v) before half the layer was sent: %s", err, lastLine(stderr.String()))
			return res
		case <-tick.C:
			if th.uploaded.Load() >= resumeLayerSize/2 {
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
				break wait
			}
		}
	}
	res.beforeKill = th.uploaded.Load()
	time.Sleep(200 * time.Millisecond) // let the registry see the connection go
	th.quiesce()
	th.uploaded.Store(0)
	th.rate.Store(1 << 40)
	if err := rerun(argv, envv, &stderr); err != nil {
		res.err = fmt.Sprintf("the re-run failed (%v): %s", err, lastLine(stderr.String()))
		return res
	}
	res.resent = th.uploaded.Load()
	if err := v.check(ctx, r.host+"/resume/big:v1", "v1", img, false); err != nil {
		res.err = "the re-run succeeded, but the target does not verify: " + err.Error()
	}
	return res
}

// bigLayout writes a layout holding one image whose only layer is 100 MB
// of incompressible bytes, from a fixed seed.
func (e *env) bigLayout(ctx context.Context) (string, *image, error) {
	dir := filepath.Join(e.dir, "src-big")
	lay, err := ocilayout.Create(ctx, dir)
	if err != nil {
		return "", nil, err
	}
	src := rand.NewChaCha8([32]byte{16})
	layer := make([]byte, resumeLayerSize)
	src.Read(layer)
	ld := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromBytes(layer), Size: int64(len(layer))}
	cfg, _ := json.Marshal(ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}, RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{ld.Digest}}})
	cd := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))}
	man, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: cd, Layers: []ocispec.Descriptor{ld}})
	md := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(man), Size: int64(len(man))}
	for _, b := range []struct {
		d ocispec.Descriptor
		r io.Reader
	}{{ld, bytes.NewReader(layer)}, {cd, bytes.NewReader(cfg)}, {md, bytes.NewReader(man)}} {
		if err := lay.Push(ctx, b.d, b.r); err != nil {
			return "", nil, err
		}
	}
	if err := lay.Tag(ctx, md, "v1"); err != nil {
		return "", nil, err
	}
	img := &image{name: "big", layout: dir, img: &testutil.Image{Root: md, Manifests: []ocispec.Descriptor{md}, Configs: []ocispec.Descriptor{cd}}}
	return dir, img, nil
}

func resumeReport(results []resumeResult) string {
	var b strings.Builder
	b.WriteString("Push resume: a one-layer image of a 100 MB layer, hoist SIGKILLed once half the layer is uploaded, then the same push again.\n\n")
	b.WriteString("| registry | uploaded before the kill | re-sent by the re-run | of the layer | result |\n|---|---|---|---|---|\n")
	for _, r := range results {
		st := "verified"
		if r.err != "" {
			st = cell(r.err)
		}
		fmt.Fprintf(&b, "| %s | %.1f MB | %.1f MB | %.0f%% | %s |\n", r.registry, float64(r.beforeKill)/1e6, float64(r.resent)/1e6, 100*float64(r.resent)/float64(max(r.layer, 1)), st)
	}
	return b.String()
}
