package ocilayout

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store"
)

// The tests below run this test binary again as a second hoist process.
// TestHelperProcess is that process's entry point; it does nothing in a
// normal run.
const helperEnv = "HOIST_OCILAYOUT_HELPER"

func helper(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	// GORACE: a race-enabled binary otherwise sleeps a second at exit.
	cmd.Env = append(os.Environ(), helperEnv+"="+strings.Join(args, "\x1f"), "GORACE=atexit_sleep_ms=0")
	return cmd
}

func TestHelperProcess(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		return
	}
	args := strings.Split(spec, "\x1f")
	switch args[0] {
	case "tag": // tag DIR SEED TAG...: create the layout, copy an image, tag it
		l, err := Create(ctx, args[1])
		if err != nil {
			t.Fatal(err)
		}
		img := testutil.NewImage(t, testutil.ImageSpec{Seed: args[2], Platforms: []string{"linux/amd64", "linux/arm64"}})
		if err := testutil.CopyGraph(ctx, img, img.Root, l); err != nil {
			t.Fatal(err)
		}
		for _, tag := range args[3:] {
			if err := l.Tag(ctx, img.Root, tag); err != nil {
				t.Fatal(err)
			}
		}
	case "stall": // stall DIR N: push bigBlob(N), whose reader stops for good half way
		l, err := Create(ctx, args[1])
		if err != nil {
			t.Fatal(err)
		}
		var n int
		fmt.Sscan(args[2], &n)
		b, d := bigBlob(n)
		in, err := l.Ingest(ctx, d.Digest.String(), store.IngestOptions{Expected: d})
		if err != nil {
			t.Fatal(err)
		}
		store.CopyIngest(ctx, in, d, io.MultiReader(bytes.NewReader(b[:n/2]), blockForever{}))
		t.Fatal("the stalled ingest returned")
	}
}

type blockForever struct{}

func (blockForever) Read([]byte) (int, error) { select {} }

// Two processes tag different images into one layout at the same moment,
// twenty times over: every tag of both must be there each time.
func TestTwoProcessesTagOneLayout(t *testing.T) {
	rounds := 20
	if testing.Short() {
		rounds = 3
	}
	want := map[string]string{}
	for _, seed := range []string{"p", "q"} {
		img := testutil.NewImage(t, testutil.ImageSpec{Seed: seed, Platforms: []string{"linux/amd64", "linux/arm64"}})
		for i := range 5 {
			want[fmt.Sprintf("%s%d", seed, i)] = img.Root.Digest.String()
		}
	}
	for round := range rounds {
		dir := t.TempDir() + "/layout" // created by the helpers themselves, racing
		var cmds []*exec.Cmd
		var outs []*bytes.Buffer
		for _, seed := range []string{"p", "q"} {
			args := []string{"tag", dir, seed}
			for i := range 5 {
				args = append(args, fmt.Sprintf("%s%d", seed, i))
			}
			cmd := helper(t, args...)
			out := &bytes.Buffer{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmds, outs = append(cmds, cmd), append(outs, out)
		}
		for i, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				t.Fatalf("round %d: helper %d: %v\n%s", round, i, err, outs[i])
			}
		}
		l, err := Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		tags, err := l.Tags(ctx, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(tags) != len(want) {
			t.Fatalf("round %d: tags %v, want all of %v", round, tags, want)
		}
		for tag, dgst := range want {
			d, err := l.Resolve(ctx, tag)
			if err != nil || d.Digest.String() != dgst {
				t.Fatalf("round %d: tag %s = %v, %v; want %s", round, tag, d.Digest, err, dgst)
			}
			// The whole image is readable.
			if err := testutil.CopyGraph(ctx, l, d, discard{}); err != nil {
				t.Fatalf("round %d: image %s: %v", round, tag, err)
			}
		}
	}
}

// A pull killed with SIGKILL half way through a blob leaves its staged
// prefix, unlocked, and no visible blob; the next run's ingest of the same
// ref resumes from it.
func TestResumeAfterSIGKILL(t *testing.T) {
	dir := t.TempDir() + "/layout"
	const n = 4 << 20
	cmd := helper(t, "stall", dir, fmt.Sprint(n))
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b, d := bigBlob(n)
	deadline := time.Now().Add(30 * time.Second)
	for {
		l, err := Open(ctx, dir)
		if err == nil && staged(l, d) == n/2 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the helper never staged half the blob:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	l, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if ok(l, d) || len(blobFiles(t, dir)) != 0 {
		t.Fatal("a partial blob is visible under blobs/")
	}
	// The dead process's lock is gone: the ingest gets the staging file.
	in, err := l.Ingest(ctx, d.Digest.String(), store.IngestOptions{Expected: d, Resume: true})
	if err != nil || in.Offset() != n/2 {
		t.Fatalf("ingest after SIGKILL: offset %d, %v; want %d", in.Offset(), err, n/2)
	}
	if err := store.CopyIngest(ctx, in, d, bytes.NewReader(b[n/2:])); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(l.blobPath(d.Digest)); !bytes.Equal(got, b) {
		t.Fatal("the resumed blob differs")
	}
}

// discard is a store.Writer that reads everything (so the source verifies
// it) and keeps nothing.
type discard struct{}

func (discard) Exists(context.Context, ocispec.Descriptor) (bool, error) { return false, nil }
func (discard) Push(_ context.Context, _ ocispec.Descriptor, r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}
func (discard) Tag(context.Context, ocispec.Descriptor, string) error { return nil }
