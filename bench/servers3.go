package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/internal/testutil/s3test"
)

// The servers case on S3: the same push and pull of the big image, through
// two hoist serve instances on one SeaweedFS bucket and through two
// distribution v3 instances on the same SeaweedFS (another prefix of the
// bucket, a shared http.secret), each pair behind a round-robin proxy
// that alternates every request between its instances. SeaweedFS runs on
// loopback (s3test.LaunchSeaweed) for the whole case.

// s3Instances is how many instances of each server share the bucket.
const s3Instances = 2

// runServersS3 runs the servers case on SeaweedFS.
func (h *harness) runServersS3(ctx context.Context) ([]*serverStat, error) {
	if h.fx.layout == "" {
		if err := h.prepareLayout(ctx); err != nil {
			return nil, err
		}
	}
	distBin := filepath.Join(h.root, ".tools", "bin", "registry")
	weedBin := filepath.Join(h.root, ".tools", "bin", "weed-"+s3test.SeaweedVersion)
	for _, b := range []string{distBin, weedBin} {
		if _, err := os.Stat(b); err != nil {
			return nil, fmt.Errorf("%s is missing: run .ci/tools", b)
		}
	}
	wdir := filepath.Join(h.work, "seaweedfs")
	if err := os.RemoveAll(wdir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(wdir, 0o755); err != nil {
		return nil, err
	}
	defer os.RemoveAll(wdir)
	s3srv, stopWeed, err := s3test.LaunchSeaweed(weedBin, wdir, "bench")
	if err != nil {
		return nil, err
	}
	defer stopWeed()
	pair := func(start func(ctx context.Context, dir string, i int) (string, *child, error)) func(ctx context.Context, dir string) (string, []*child, func(), error) {
		return func(ctx context.Context, dir string) (string, []*child, func(), error) {
			var procs []*child
			var addrs []string
			stopAll := func() {
				for _, c := range procs {
					c.stop()
				}
			}
			for i := range s3Instances {
				addr, c, err := start(ctx, dir, i)
				if err != nil {
					stopAll()
					return "", nil, nil, err
				}
				procs, addrs = append(procs, c), append(addrs, addr)
			}
			rr, stopProxy := testutil.NewRoundRobin(addrs...)
			return rr.Host, procs, func() { stopProxy(); stopAll() }, nil
		}
	}
	prefix := func(dir string) string { return "runs/" + filepath.Base(dir) }
	// With -s3-requests each server reaches SeaweedFS through its own
	// counting proxy (and hands out presigned URLs through it).
	hoistS3, distS3 := s3srv, s3srv
	var hoistCount, distCount *countingProxy
	var traces []string // hoist's, distribution's
	if h.cfg.s3Requests {
		for _, c := range []struct {
			srv   **s3test.S3Server
			count **countingProxy
		}{{&hoistS3, &hoistCount}, {&distS3, &distCount}} {
			p, err := startCountingProxyOf(strings.TrimPrefix(s3srv.Endpoint, "http://"), classifyS3)
			if err != nil {
				return nil, err
			}
			defer p.close()
			trace, err := os.Create(filepath.Join(h.work, "s3-requests-"+strconv.Itoa(len(traces))+".log"))
			if err != nil {
				return nil, err
			}
			defer trace.Close()
			traces = append(traces, trace.Name())
			p.trace = trace
			via := *s3srv
			via.Endpoint = "http://" + p.addr
			*c.srv, *c.count = &via, p
		}
	}
	servers := []servedBy{
		{"hoist serve ×2 on S3", pair(func(ctx context.Context, dir string, i int) (string, *child, error) {
			return h.startHoistServeS3(ctx, dir, i, hoistS3, prefix(dir))
		}), hoistCount, s3srv.PID},
		{"distribution v3 ×2 on S3", pair(func(ctx context.Context, dir string, i int) (string, *child, error) {
			return startRegistryS3(ctx, distBin, dir, i, distS3, prefix(dir))
		}), distCount, s3srv.PID},
	}
	return h.timeServers(ctx, distBin, servers)
}

// startHoistServeS3 starts instance i of hoist serve on the bucket.
func (h *harness) startHoistServeS3(ctx context.Context, dir string, i int, s3srv *s3test.S3Server, prefix string) (string, *child, error) {
	return startServer(ctx, filepath.Join(dir, "hoist-"+strconv.Itoa(i)), s3srv.Env(), func(addr string) ([]string, error) {
		return []string{h.bins.hoist, "serve", "--addr", addr, "--access-log", "",
			"--storage", "s3", "--s3-endpoint", s3srv.Endpoint, "--s3-bucket", s3srv.Bucket, "--s3-prefix", prefix + "/hoist",
			"--s3-redirect"}, nil // as distribution redirects blob GETs to S3 unless told not to
	})
}

// startRegistryS3 starts instance i of distribution v3 on the bucket, with
// the http.secret every instance shares (it signs upload state).
func startRegistryS3(ctx context.Context, bin, dir string, i int, s3srv *s3test.S3Server, prefix string) (string, *child, error) {
	d := filepath.Join(dir, "distribution-"+strconv.Itoa(i))
	return startServer(ctx, d, nil, func(addr string) ([]string, error) {
		conf := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  cache:
    blobdescriptor: inmemory
  s3:
    accesskey: %s
    secretkey: %s
    region: %s
    regionendpoint: %s
    forcepathstyle: true
    secure: false
    bucket: %s
    rootdirectory: /%s/distribution
    storageclass: NONE
http:
  addr: %s
  secret: hoist-bench-shared
`, s3srv.AccessKey, s3srv.SecretKey, s3srv.Region, s3srv.Endpoint, s3srv.Bucket, strings.Trim(prefix, "/"), addr)
		confPath := filepath.Join(d, "config.yml")
		if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
			return nil, err
		}
		return []string{bin, "serve", confPath}, nil
	})
}

// renderServersS3 writes the servers-on-S3 section.
func renderServersS3(e envInfo, h *harness, stats []*serverStat) string {
	var b strings.Builder
	b.WriteString("## Registry servers on S3: two hoist serve instances against two distribution v3 instances\n\n")
	renderHeader(&b, e)
	b.WriteString("\n")
	fmt.Fprintf(&b, "hoist pushes the big image (%s) from an OCI layout, then pulls it into a fresh layout, through a round-robin "+
		"proxy that alternates every request between %d instances of one server on one SeaweedFS bucket (`weed mini` %s on loopback; "+
		"each run a fresh prefix). Both redirect blob GETs to presigned S3 URLs (hoist with `--s3-redirect`, distribution by default). "+
		"The two servers take turns going first. Medians of %d runs; server CPU is all instances' CPU time in a run (push and pull), S3 CPU SeaweedFS's in the same run, peak RSS per instance.\n\n",
		mibs(h.fx.big.size()), s3Instances, s3test.SeaweedVersion, h.runs())
	b.WriteString(serverTable(stats))
	if len(stats) == 2 && len(stats[0].all) > 0 && len(stats[1].all) > 0 {
		fmt.Fprintf(&b, "\nhoist serve / distribution v3 on S3, push + pull: **%.2f** (target ≤ 1.00); push %.2f, pull %.2f.\n",
			ratio(median(stats[0].all), median(stats[1].all)), ratio(median(stats[0].push), median(stats[1].push)), ratio(median(stats[0].pull), median(stats[1].pull)))
	}
	renderS3Requests(&b, stats)
	for _, s := range stats {
		for _, f := range s.failed {
			fmt.Fprintf(&b, "\n- failed: %s", f)
		}
	}
	return b.String()
}
