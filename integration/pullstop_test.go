//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store/ocilayout"
)

// pushBig pushes an image of layers x layerBytes to reg/repo:v1 with
// hoist and returns its total layer size.
func pushBig(t *testing.T, env []string, reg, repo string, layers, layerBytes int) int64 {
	t.Helper()
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: repo, Layers: layers, LayerBytes: layerBytes})
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "src")
	src, err := ocilayout.Create(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := testutil.CopyGraph(ctx, img, img.Root, src); err != nil {
		t.Fatal(err)
	}
	src.Tag(ctx, img.Root, "v1")
	if _, stderr, code := runHoist(t, env, "push", "oci:"+dir+":v1", reg+"/"+repo+":v1"); code != 0 {
		t.Fatal(stderr)
	}
	var total int64
	for _, l := range img.Layers[0] {
		total += l.Size
	}
	return total
}

// Issue 9, defect 10: Ctrl-C (SIGINT) stops a pull with exit 130 and
// says how much is staged and that the same command resumes; it does.
func TestPullInterruptedSaysHowToResume(t *testing.T) {
	reg := testutil.DockerRegistry(t)
	dir := t.TempDir()
	env := []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}
	total := pushBig(t, env, reg, "sigint/app", 2, 16<<20)

	target, _ := url.Parse("http://" + reg)
	rp := httputil.NewSingleHostReverseProxy(target)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.ServeHTTP(throttled{w, 4 << 20}, r)
	}))
	defer slow.Close()
	ref := slow.Listener.Addr().String() + "/sigint/app:v1"
	out := filepath.Join(dir, "app")

	cmd := exec.Command(hoistBin, "pull", ref, out)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for staged(filepath.Join(out, ".hoist-tmp")) < 4<<20 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the pull never staged 4 MiB")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	ee, _ := err.(*exec.ExitError)
	if ee == nil || ee.ExitCode() != 130 {
		t.Fatalf("after SIGINT: %v; want exit 130\n%s", err, stderr.String())
	}
	msg := stderr.String()
	re := regexp.MustCompile(`hoist: interrupted; ([0-9.]+ [KMG]iB) of partial blobs staged in ` + regexp.QuoteMeta(filepath.Join(out, ".hoist-tmp")) + `.*run the same command again to resume`)
	if !re.MatchString(msg) {
		t.Fatalf("the interrupted pull's message:\n%s", msg)
	}
	t.Logf("%s", strings.TrimSpace(msg[strings.LastIndex(msg, "hoist: interrupted"):]))

	stdout, errOut, code := runHoist(t, env, "--json", "pull", reg+"/sigint/app:v1", out)
	if code != 0 {
		t.Fatalf("the rerun: %d %s", code, errOut)
	}
	var res struct{ Bytes int64 }
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("the rerun printed %s: %v", stdout, err)
	}
	if res.Bytes >= total {
		t.Errorf("the rerun transferred %d of %d bytes: nothing was resumed", res.Bytes, total)
	}
}

// Issue 9, defect 10: when the disk fills, the message names the staging
// directory and its size. The disk is a 6 MiB tmpfs (the tests run as
// root, as CI does).
func TestPullDiskFullNamesStaging(t *testing.T) {
	reg := testutil.DockerRegistry(t)
	dir := t.TempDir()
	env := []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}
	pushBig(t, env, reg, "full/app", 3, 4<<20)

	disk := filepath.Join(dir, "disk")
	os.Mkdir(disk, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", disk).CombinedOutput(); err != nil {
		msg := "mounting a small tmpfs needs root: " + strings.TrimSpace(string(out))
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { exec.Command("umount", disk).Run() })
	out := filepath.Join(disk, "app")
	_, stderr, code := runHoist(t, env, "pull", "--concurrency", "1", reg+"/full/app:v1", out)
	if code != 1 {
		t.Fatalf("pull onto a full disk: exit %d\n%s", code, stderr)
	}
	want := regexp.MustCompile(`no space left on device.*the staging directory ` + regexp.QuoteMeta(filepath.Join(out, ".hoist-tmp")) + ` holds [0-9.]+ [KMG]iB of partial blobs; free some space and run the same command again to resume`)
	if !want.MatchString(stderr) {
		t.Fatalf("the message on a full disk:\n%s", stderr)
	}
	t.Logf("%s", strings.TrimSpace(stderr))
}
