package testutil

import (
	"bufio"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// BigBlob is a large blob generated on the fly, never held in memory: for
// tests that check stores stream.
type BigBlob struct {
	Desc ocispec.Descriptor
}

// NewBigBlob describes a blob of size bytes (a whole number of KiB) with
// mediaType; computing its digest reads it once.
func NewBigBlob(t testing.TB, size int64, mediaType string) BigBlob {
	t.Helper()
	dg := digest.Canonical.Digester()
	if _, err := io.Copy(dg.Hash(), patternReader(size)); err != nil {
		t.Fatal(err)
	}
	return BigBlob{Desc: ocispec.Descriptor{MediaType: mediaType, Digest: dg.Digest(), Size: size}}
}

// Reader returns the blob's bytes from the start.
func (b BigBlob) Reader() io.Reader { return patternReader(b.Desc.Size) }

// patternReader yields n bytes: 1 KiB blocks, each a different counter
// pattern, so the content is not one repeated block.
func patternReader(n int64) io.Reader {
	return io.LimitReader(&pattern{}, n)
}

type pattern struct {
	block [1024]byte
	i     uint64
	off   int
}

func (p *pattern) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		if p.off == 0 {
			for j := 0; j < len(p.block); j += 8 {
				binary.LittleEndian.PutUint64(p.block[j:], p.i*0x9e3779b97f4a7c15+uint64(j))
			}
			p.i++
		}
		c := copy(b[n:], p.block[p.off:])
		n += c
		p.off = (p.off + c) % len(p.block)
	}
	return n, nil
}

// PeakRSSKiB returns the process's peak resident set size (VmHWM) in KiB,
// skipping the test where /proc/self/status does not exist.
func PeakRSSKiB(t testing.TB) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("VmHWM not in /proc/self/status")
	return 0
}

// PeakRSSInChild runs test (a test function of the current binary) in a
// fresh child process with env set, expecting it to print
// "peak-rss-kib N" (see ReportPeakRSS), and returns N: the child's peak
// resident set for its whole life. The child's output is shown if it
// fails.
func PeakRSSInChild(t testing.TB, test string, env ...string) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.v", "-test.count=1")
	cmd.Env = append(append(os.Environ(), "GORACE=atexit_sleep_ms=0"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`peak-rss-kib (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("child did not report its peak RSS:\n%s", out)
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

// ReportPeakRSS prints the line PeakRSSInChild reads.
func ReportPeakRSS(t testing.TB) {
	t.Helper()
	os.Stdout.WriteString("peak-rss-kib " + strconv.FormatInt(PeakRSSKiB(t), 10) + "\n")
}

// raceRSSFactor scales a peak-RSS budget in race builds: the race
// detector's shadow memory roughly doubles a streaming test's resident set
// (a 1 GiB pull measured 28 MiB plain and 65 MiB with -race). A budget
// still proves streaming when it stays far below the bytes moved.
const raceRSSFactor = 3

// RSSBudget returns budget, scaled by raceRSSFactor in race builds.
func RSSBudget(budget int64) int64 {
	if raceEnabled {
		return budget * raceRSSFactor
	}
	return budget
}

// CheckPeakRSS is a whole peak-memory test: run in the test process, it
// runs the test again as a child process with env set to arg, and fails
// unless the child's peak resident set stays under budget bytes (scaled by
// RSSBudget in race builds); in that child, it runs child(t, arg) and
// reports the peak. It is skipped with -short.
func CheckPeakRSS(t *testing.T, env, arg string, budget int64, child func(t *testing.T, arg string)) {
	t.Helper()
	if testing.Short() {
		t.Skip("moves a big blob; skipped with -short")
	}
	if v := os.Getenv(env); v != "" {
		child(t, v)
		ReportPeakRSS(t)
		return
	}
	budget = RSSBudget(budget)
	peak := PeakRSSInChild(t, t.Name(), env+"="+arg)
	t.Logf("child peak RSS %.1f MiB (budget %d MiB)", float64(peak)/1024, budget>>20)
	if peak*1024 >= budget {
		t.Fatalf("peak RSS %d KiB is over the %d MiB budget", peak, budget>>20)
	}
}
