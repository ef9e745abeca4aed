package distribution

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

const (
	bigBlobSize = 1 << 30
	rssBudget   = 64 << 20
	memChildEnv = "HOIST_TEST_MEMORY_CHILD"
)

// bigBlob is 1 GiB generated on the fly: one random MiB repeated. Nothing
// stores it; the server writes the block over and over.
type bigBlob struct {
	block []byte
	desc  ocispec.Descriptor
}

func newBigBlob(t testing.TB) *bigBlob {
	t.Helper()
	b := &bigBlob{block: randomBytes(t, 1<<20)}
	h := sha256.New()
	for i := 0; i < bigBlobSize/len(b.block); i++ {
		h.Write(b.block)
	}
	b.desc = ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.NewDigest(digest.SHA256, h), Size: bigBlobSize}
	return b
}

// serve streams the blob for any GET under /v2/.
func (b *bigBlob) serve(t testing.TB) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(bigBlobSize))
		w.Header().Set("Docker-Content-Digest", b.desc.Digest.String())
		for i := 0; i < bigBlobSize/len(b.block); i++ {
			if _, err := w.Write(b.block); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// procStatusKiB reads a "VmXXX:   1234 kB" line of /proc/self/status.
func procStatusKiB(t testing.TB, field string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status on this system: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("%s not in /proc/self/status", field)
	return 0
}

// TestPullOneGiBPeakRSS pulls a 1 GiB blob through Blob (verified as it
// streams) in a fresh child process and checks that the child's peak
// resident set (VmHWM, for the whole life of the process: runtime, test
// binary, the serving side and the pull) stays under 64 MiB.
func TestPullOneGiBPeakRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("pulls 1 GiB; skipped with -short")
	}
	if os.Getenv(memChildEnv) != "" {
		pullBigBlobChild(t)
		return
	}
	start := time.Now()
	cmd := exec.Command(os.Args[0], "-test.run=^TestPullOneGiBPeakRSS$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), memChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`pulled (\d+) bytes; VmHWM (\d+) kB`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("child did not report:\n%s", out)
	}
	pulled, _ := strconv.ParseInt(string(m[1]), 10, 64)
	peak, _ := strconv.ParseInt(string(m[2]), 10, 64)
	t.Logf("pulled %d bytes in %s; child peak RSS %.1f MiB (budget %d MiB)", pulled, time.Since(start).Round(time.Millisecond), float64(peak)/1024, rssBudget>>20)
	if pulled != bigBlobSize {
		t.Fatalf("child pulled %d bytes", pulled)
	}
	if peak*1024 >= rssBudget {
		t.Fatalf("peak RSS %d kB is over the %d MiB budget", peak, rssBudget>>20)
	}
}

func pullBigBlobChild(t *testing.T) {
	b := newBigBlob(t)
	r := mustRepo(t, client(t, b.serve(t)), "big")
	rc, err := r.Blob(context.Background(), b.desc)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("pulled %d bytes; VmHWM %d kB\n", n, procStatusKiB(t, "VmHWM"))
}

// BenchmarkPullBlob1GiB reports pull throughput and the process's peak RSS.
func BenchmarkPullBlob1GiB(b *testing.B) {
	blob := newBigBlob(b)
	r := mustRepo(b, client(b, blob.serve(b)), "big")
	b.SetBytes(bigBlobSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.CopyBlob(context.Background(), blob.desc, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(procStatusKiB(b, "VmHWM"))/1024, "peak-RSS-MiB")
}
