//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	hoist "github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/distribution"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/internal/testutil/s3test"
	"github.com/hoist-dev/hoist/store/ocilayout"
)

// bigSize is the layer of the images an instance is killed under: 24 MiB,
// more than two 10 MiB parts.
const bigSize = 24 << 20

// addBigImage adds to the layout in dir an image tagged "big" whose one
// layer is bigSize pseudo-random bytes.
func addBigImage(t *testing.T, dir, seed string) digest.Digest {
	t.Helper()
	ctx := context.Background()
	l, err := ocilayout.Create(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	layer := make([]byte, bigSize)
	r := rand.NewChaCha8([32]byte([]byte(fmt.Sprintf("%-32s", seed))))
	r.Read(layer)
	push := func(mt string, b []byte) ocispec.Descriptor {
		d := content.NewDescriptor(mt, b)
		if err := l.Push(ctx, d, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest,
		Config: push(ocispec.MediaTypeImageConfig, fmt.Appendf(nil, `{"architecture":"amd64","os":"linux","config":{"Env":["BIG=%s"]}}`, seed)),
		Layers: []ocispec.Descriptor{push(ocispec.MediaTypeImageLayerGzip, layer)}}
	m.SchemaVersion = 2
	raw, _ := json.Marshal(m)
	md := push(ocispec.MediaTypeImageManifest, raw)
	if err := l.Tag(ctx, md, "big"); err != nil {
		t.Fatal(err)
	}
	return md.Digest
}

// referenced returns every digest the tagged images of the layout in dir
// are made of: manifests, configs, layers.
func referenced(t *testing.T, dir string, tags map[string]digest.Digest, into map[digest.Digest]bool) {
	t.Helper()
	ctx := context.Background()
	l, err := ocilayout.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	for tag := range tags {
		md, m := taggedManifest(t, l, tag)
		into[md.Digest], into[m.Config.Digest] = true, true
		for _, d := range m.Layers {
			into[d.Digest] = true
		}
	}
}

// TestServeS3LoseAnInstance: three hoist serve instances on one SeaweedFS
// bucket behind a round-robin proxy; 16 clients push and pull 20 images
// each (four of them also a 24 MiB one) with hoist's library, while GC
// runs again and again.
// When the first big upload has sent 22 MiB to an instance, that instance
// is SIGKILLed. Its uploads in flight must continue on the others (the
// same upload session, from the last part it stored), nothing may be
// lost, every image must verify from every surviving instance, and after
// a last GC the bucket must hold exactly the blobs the images refer to.
func TestServeS3LoseAnInstance(t *testing.T) {
	const clients, images, bigClients = 16, 20, 4
	ctx := context.Background()
	srv := s3test.StartSeaweed(t, "load")
	in := startS3Instances(t, srv, "", 3)
	rr := testutil.StartRoundRobin(t, in[0].host, in[1].host, in[2].host)
	host := rr.Host
	dir := t.TempDir()
	env := []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}
	gcArgs := func(grace string) []string {
		return append(append([]string{"--json", "serve", "gc"}, s3Args(t, srv, "")...), "--grace", grace)
	}

	// Garbage: images pushed and deleted before the load.
	garbage := filepath.Join(dir, "garbage")
	loadLayout(t, garbage, "garbage", 3, [][]byte{[]byte("garbage shared layer")})
	for i := range 3 {
		ref := host + "/garbage/x:v" + strconv.Itoa(i)
		if _, stderr, code := runHoist(t, env, "-q", "copy", "oci:"+garbage+":img"+strconv.Itoa(i), ref); code != 0 {
			t.Fatalf("pushing the garbage: %s", stderr)
		}
		if _, stderr, code := runHoist(t, env, "delete", ref); code != 0 {
			t.Fatalf("deleting the garbage: %s", stderr)
		}
	}

	shared := make([][]byte, 4)
	for i := range shared {
		shared[i] = bytes.Repeat([]byte{byte('A' + i)}, 256<<10)
	}
	wants := make([]map[string]digest.Digest, clients)
	want := map[digest.Digest]bool{}
	for c := range clients {
		src := filepath.Join(dir, "src", strconv.Itoa(c))
		wants[c] = loadLayout(t, src, "client"+strconv.Itoa(c), images, shared)
		if c < bigClients {
			wants[c]["big"] = addBigImage(t, src, "big"+strconv.Itoa(c))
		}
		referenced(t, src, wants[c], want)
	}

	// The kill: the first upload body to pass 22 MiB on its way to an
	// instance takes that instance down mid-request. The proxy holds that
	// body for a moment first: on a loaded machine the instance can lag
	// megabytes behind what the proxy forwarded (socket buffers), and the
	// test needs it to have stored its 10 MiB parts when it dies.
	killed := atomic.Int32{}
	killed.Store(-1)
	rr.OnBody = func(b int, r *http.Request, sent int64) {
		if sent > bigSize-2<<20 && strings.Contains(r.URL.Path, "/blobs/uploads/") && killed.CompareAndSwap(-1, int32(b)) {
			time.Sleep(3 * time.Second)
			syscall.Kill(in[b].cmd.Process.Pid, syscall.SIGKILL)
		}
	}

	stopGC := gcDuring(time.Second, gcArgs("30s")...)

	// The clients: hoist's library (package distribution over a Session's
	// client), which picks a cut upload up in the same session, from
	// where the registry says it stands, when its source can be re-read.
	sess, err := hoist.NewSession(hoist.WithInsecureRegistries(host), hoist.WithConfigDir(filepath.Join(dir, "config")))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	reg, err := distribution.NewRegistry(host, distribution.WithHTTPClient(sess.RegistryClient(host)), distribution.WithPlainHTTP())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, clients*(images+1)*2)
	retried := make(chan string, clients*(images+1)*6)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := filepath.Join(dir, "src", strconv.Itoa(c))
			repo, err := reg.Repository("load/client" + strconv.Itoa(c))
			if err != nil {
				errs <- err
				return
			}
			tags := make([]string, 0, len(wants[c]))
			for i := range images {
				tags = append(tags, "img"+strconv.Itoa(i))
				if i == 3 && c < bigClients {
					tags = append(tags, "big")
				}
			}
			// A request the kill cut before it had a session to continue
			// (a POST, a manifest PUT) fails; the client tries the job
			// again, as the copy engine does.
			again := func(what string, job func() error) error {
				err := job()
				for try := 1; err != nil && try < 3; try++ {
					retried <- fmt.Sprintf("client %d: %s: %v", c, what, err)
					err = job()
				}
				return err
			}
			for _, tag := range tags {
				if err := again("push "+tag, func() error { return pushFromLayout(ctx, repo, src, tag, wants[c][tag]) }); err != nil {
					errs <- fmt.Errorf("client %d: push %s: %w", c, tag, err)
					return
				}
				if err := again("pull "+tag, func() error { return pullVerified(ctx, repo, tag, wants[c][tag]) }); err != nil {
					errs <- fmt.Errorf("client %d: pull %s: %w", c, tag, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	gc := stopGC()
	reports := gc.reports
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	close(retried)
	for r := range retried {
		t.Logf("tried again after the kill: %s", r)
	}
	k := int(killed.Load())
	if k < 0 {
		t.Fatal("no upload reached the size at which an instance is killed")
	}
	removed := gcRemoved(t, reports)
	t.Logf("%d clients pushed and pulled %d images (%d of 24 MiB) in %v; instance %d SIGKILLed mid-upload; %d GC runs during the load removed %d blobs",
		clients, clients*images+bigClients, bigClients, elapsed.Round(time.Millisecond), k, len(reports), removed)
	if len(reports) == 0 {
		t.Error("no GC ran during the load")
	}
	t.Logf("GC runs during the load took %v", gc.took)

	// The uploads the kill cut continued: the same session, on another
	// instance, from a part boundary, to a 201. No upload was lost (404).
	recs := rr.Records()
	defer func() {
		if t.Failed() {
			b, _ := json.MarshalIndent(recs, "", " ")
			f := filepath.Join(os.TempDir(), "hoist-s3load-records.json")
			os.WriteFile(f, b, 0o644)
			t.Logf("the proxy's records are in %s", f)
		}
	}()
	cut := map[string]bool{}
	for _, r := range recs {
		refused := strings.Contains(r.Err, "connection refused") // the proxy moved on: nothing was sent
		if strings.Contains(r.Path, "/blobs/uploads/") && ((r.Err != "" && !refused) || r.Status >= 500) && r.Backend == k && r.Method != "POST" {
			cut[r.Path] = true
		}
	}
	if len(cut) == 0 {
		t.Error("the kill cut no upload request")
	}
	fromAPart := false
	for p := range cut {
		var resumedAt []string
		done, gone := false, ""
		var blob digest.Digest
		for _, r := range recs {
			if r.Path != p {
				continue
			}
			if q, err := url.ParseQuery(r.Query); err == nil && q.Get("digest") != "" {
				blob = digest.Digest(q.Get("digest"))
			}
			if r.Backend == k {
				continue
			}
			if r.Status == http.StatusNotFound && r.Method != "DELETE" {
				gone = r.Body
			}
			if r.Method == "PATCH" && r.ContentRange != "" {
				resumedAt = append(resumedAt, r.ContentRange)
			}
			if r.Method == "PUT" && r.Status == http.StatusCreated {
				done = true
			}
		}
		t.Logf("upload %s cut by the kill; continued on the others with chunks %v; committed: %v", p, resumedAt, done)
		switch {
		case gone != "" && blob != "" && want[blob] && !done && !strings.Contains(gone, "start the upload again"):
			// The killed instance had committed it and was removing the
			// session when it died: the session is gone (404, as for any
			// finished upload) and the blob is in place; the final check
			// of the bucket below shows it stored.
			t.Logf("upload %s was committed by the killed instance (%s); the session answers 404: %s", p, blob, strings.TrimSpace(gone))
		case gone != "":
			t.Errorf("upload %s, cut by the kill, was lost: 404 %s", p, gone)
		case !done:
			t.Errorf("upload %s, cut by the kill, was not completed in the same session", p)
		}
		if len(resumedAt) > 0 {
			// The first chunk after the cut starts where storage stood: the
			// end of the last 10 MiB part it stored (0 before the first).
			start, _ := strconv.ParseInt(resumedAt[0][:strings.IndexByte(resumedAt[0], '-')], 10, 64)
			if start%(10<<20) != 0 {
				t.Errorf("upload %s resumed at %d, not at the end of a stored 10 MiB part", p, start)
			}
			fromAPart = fromAPart || start > 0
		}
	}
	if !fromAPart {
		t.Error("no cut upload continued from a stored part (the kill comes after 22 MiB of a 24 MiB upload)")
	}

	// Every image verifies from every surviving instance.
	var live []string
	for i, s := range in {
		if i != k {
			live = append(live, s.host)
		}
	}
	var vwg sync.WaitGroup
	verr := make(chan error, clients*len(live)*(images+2))
	for c := range clients {
		for li, h := range live {
			vwg.Add(1)
			go func() {
				defer vwg.Done()
				verr <- verifyFrom(h, "load/client"+strconv.Itoa(c), wants[c])
				if c%len(live) == li { // and a full pull, through the client, from one of them
					for tag, want := range wants[c] {
						cmd := exec.Command(hoistBin, "-q", "copy", h+"/load/client"+strconv.Itoa(c)+":"+tag, "oci:"+filepath.Join(dir, "verify", strconv.Itoa(c))+":"+tag)
						cmd.Env = append(os.Environ(), env...)
						if got, err := cmd.Output(); err != nil || strings.TrimSpace(string(got)) != want.String() {
							verr <- fmt.Errorf("pull of client %d %s from %s: %q %v", c, tag, h, got, err)
						}
					}
				}
			}()
		}
	}
	vwg.Wait()
	close(verr)
	for err := range verr {
		if err != nil {
			t.Error(err)
		}
	}

	// A last GC, once the garbage is past a short grace: the bucket then
	// holds exactly the blobs the images refer to, and nothing else.
	time.Sleep(3 * time.Second)
	if out, stderr, code := runHoist(t, env, gcArgs("2s")...); code != 0 {
		t.Fatalf("the last gc: %s", stderr)
	} else {
		t.Logf("the last gc: %s", strings.TrimSpace(out))
	}
	var stored []digest.Digest
	for _, key := range srv.Keys(t, "hoist/blobs/") {
		f := strings.Split(key, "/") // hoist/blobs/ALG/HH/HEX/FILE
		if len(f) == 6 && f[5] == "data" {
			stored = append(stored, digest.NewDigestFromEncoded(digest.Algorithm(f[2]), f[4]))
		}
	}
	var wantList []digest.Digest
	for d := range want {
		wantList = append(wantList, d)
	}
	slices.Sort(stored)
	slices.Sort(wantList)
	t.Logf("the bucket holds %d blobs; the images refer to %d", len(stored), len(wantList))
	if !slices.Equal(stored, wantList) {
		extra, missing := diff(stored, want), diff(wantList, toSet(stored))
		t.Errorf("the bucket's blobs are not the referenced ones: %d not referenced %v, %d missing %v", len(extra), extra, len(missing), missing)
	}
	for _, prefix := range []string{"hoist/trash/", "hoist/tmp/"} {
		if keys := srv.Keys(t, prefix); len(keys) != 0 {
			t.Errorf("left under %s: %v", prefix, keys)
		}
	}
	for _, key := range srv.Keys(t, "hoist/repositories/") {
		if strings.Contains(key, "/_uploads/") {
			t.Errorf("an upload is left: %s", key)
		}
	}
	if mp := srv.MultipartUploads(t, ""); len(mp) != 0 {
		t.Errorf("unfinished multipart uploads are left: %v", mp)
	}
	for i, s := range in {
		if i != k {
			t.Logf("instance %d peak RSS: %.1f MiB", i, float64(peakRSSKiB(t, s.cmd.Process.Pid))/1024)
		}
	}
}

// pushFromLayout pushes image tag of the layout in dir: each blob the
// repository lacks, from its file (a source that can be re-read, so a cut
// upload continues), then the manifest by tag.
func pushFromLayout(ctx context.Context, repo *distribution.Repository, dir, tag string, want digest.Digest) error {
	blob := func(d digest.Digest) string { return filepath.Join(dir, "blobs", string(d.Algorithm()), d.Encoded()) }
	raw, err := os.ReadFile(blob(want))
	if err != nil {
		return err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	for _, d := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
		if got, err := repo.BlobHead(ctx, d.Digest); err == nil && got.Size == d.Size {
			continue
		}
		f, err := os.Open(blob(d.Digest))
		if err != nil {
			return err
		}
		err = repo.PushBlob(ctx, d, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	got, err := repo.PutManifest(ctx, tag, m.MediaType, raw)
	if err != nil {
		return err
	}
	if got.Digest != want {
		return fmt.Errorf("the registry took the manifest as %s, want %s", got.Digest, want)
	}
	return nil
}

// pullVerified pulls image tag and checks the manifest's digest and every
// blob's (the library's readers verify as they go).
func pullVerified(ctx context.Context, repo *distribution.Repository, tag string, want digest.Digest) error {
	m, err := repo.Manifest(ctx, tag)
	if err != nil {
		return err
	}
	if m.Descriptor.Digest != want {
		return fmt.Errorf("manifest %s, want %s", m.Descriptor.Digest, want)
	}
	for _, c := range content.Children(m) {
		rc, err := repo.Blob(ctx, c.Descriptor)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("blob %s: %w", c.Descriptor.Digest, err)
		}
	}
	return nil
}

func toSet(ds []digest.Digest) map[digest.Digest]bool {
	m := map[digest.Digest]bool{}
	for _, d := range ds {
		m[d] = true
	}
	return m
}

// diff lists the digests of a not in b.
func diff(a []digest.Digest, b map[digest.Digest]bool) []digest.Digest {
	var out []digest.Digest
	for _, d := range a {
		if !b[d] {
			out = append(out, d)
		}
	}
	return out
}

// verifyFrom fetches each tagged manifest of repo from host, checks its
// digest, and checks every blob it names is there at its size.
func verifyFrom(host, repo string, tags map[string]digest.Digest) error {
	for tag, want := range tags {
		req, _ := http.NewRequest("GET", "http://"+host+"/v2/"+repo+"/manifests/"+tag, nil)
		req.Header.Set("Accept", ocispec.MediaTypeImageManifest)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || digest.FromBytes(raw) != want {
			return fmt.Errorf("%s/%s:%s: %d, digest %s, want %s (%v)", host, repo, tag, resp.StatusCode, digest.FromBytes(raw), want, err)
		}
		var m ocispec.Manifest
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		for _, d := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
			resp, err := http.Head("http://" + host + "/v2/" + repo + "/blobs/" + d.Digest.String())
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.ContentLength != d.Size {
				return fmt.Errorf("%s/%s@%s: %d, %d bytes, want %d", host, repo, d.Digest, resp.StatusCode, resp.ContentLength, d.Size)
			}
		}
	}
	return nil
}
