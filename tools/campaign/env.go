package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store/ocilayout"
)

// env is what every run shares: the hoist binary, the registries, the
// source images in each registry and as layouts.
type env struct {
	dir    string
	hoist  string
	regs   []*registry
	images []*image
	procs  []*exec.Cmd
}

// registry is one registry process.
type registry struct {
	name string // "distribution" or "hoist-serve"
	host string // 127.0.0.1:PORT
}

// image is a source image: in every registry as src/NAME:v1, and as a
// layout for pushes.
type image struct {
	name   string // "image" or "index"
	img    *testutil.Image
	layout string
}

func newEnv(ctx context.Context, dir string) (*env, error) {
	e := &env{dir: dir, hoist: filepath.Join(dir, "hoist")}
	build := exec.CommandContext(ctx, "go", "build", "-o", dir+"/", "./cmd/hoist", "./cmd/hoist-serve")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("building hoist: %w", err)
	}
	dist, err := e.startDistribution()
	if err != nil {
		e.close()
		return nil, err
	}
	serve, err := e.startServe()
	if err != nil {
		e.close()
		return nil, err
	}
	e.regs = []*registry{dist, serve}
	specs := map[string]testutil.ImageSpec{
		"image": {Seed: "campaign-image", Layers: 3, LayerBytes: 400_000},
		"index": {Seed: "campaign-index", Platforms: []string{"linux/amd64", "linux/arm64"}, Layers: 2, LayerBytes: 250_000},
	}
	for _, name := range []string{"image", "index"} {
		img, err := testutil.BuildImage(specs[name])
		if err != nil {
			e.close()
			return nil, err
		}
		im := &image{name: name, img: img, layout: filepath.Join(dir, "src-"+name)}
		lay, err := ocilayout.Create(ctx, im.layout)
		if err == nil {
			err = testutil.CopyGraph(ctx, img, img.Root, lay)
		}
		if err == nil {
			err = lay.Tag(ctx, img.Root, "v1")
		}
		if err != nil {
			e.close()
			return nil, fmt.Errorf("source layout %s: %w", name, err)
		}
		for _, r := range e.regs {
			out, err := exec.CommandContext(ctx, e.hoist, "-q", "push", "oci:"+im.layout+":v1", r.host+"/src/"+name+":v1").CombinedOutput()
			if err != nil {
				e.close()
				return nil, fmt.Errorf("seeding %s with %s: %v: %s", r.name, name, err, out)
			}
		}
		e.images = append(e.images, im)
	}
	return e, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs a server process in its own process group and waits until
// it accepts connections on port.
func (e *env) start(port int, logName, name string, args ...string) error {
	logf, err := os.Create(filepath.Join(e.dir, logName+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	e.procs = append(e.procs, cmd)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not listen on 127.0.0.1:%d within 20s (log: %s)", name, port, logf.Name())
}

func (e *env) startDistribution() (*registry, error) {
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		return nil, fmt.Errorf("docker-registry is not installed (apt-get install docker-registry): %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(e.dir, "distribution.yml")
	y := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:%d\n  secret: campaign\n",
		filepath.Join(e.dir, "distribution-data"), port)
	if err := os.WriteFile(conf, []byte(y), 0o600); err != nil {
		return nil, err
	}
	if err := e.start(port, "distribution", bin, "serve", conf); err != nil {
		return nil, err
	}
	return &registry{name: "distribution", host: "127.0.0.1:" + strconv.Itoa(port)}, nil
}

func (e *env) startServe() (*registry, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	host := "127.0.0.1:" + strconv.Itoa(port)
	if err := e.start(port, "hoist-serve", e.hoist, "serve", "--addr", host, "--root", filepath.Join(e.dir, "serve-data"), "--access-log", ""); err != nil {
		return nil, err
	}
	return &registry{name: "hoist-serve", host: host}, nil
}

// close stops every process it started, by PID (process group).
func (e *env) close() {
	for _, c := range e.procs {
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		c.Wait()
	}
}
