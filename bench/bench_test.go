package main

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		var d []time.Duration
		for _, x := range n {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	for _, tc := range []struct {
		name string
		in   []time.Duration
		want time.Duration
	}{
		{"empty", nil, 0},
		{"odd count ignores outliers", ms(900, 10, 11), 11 * time.Millisecond},
		{"even count averages the middle two", ms(40, 10, 20, 30), 25 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := median(tc.in); got != tc.want {
				t.Errorf("median = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	st := func(name string, ms int, rssMiB int64) stat {
		d := time.Duration(ms) * time.Millisecond
		return stat{name: name, runs: 3, median: d, min: d, max: d, rss: rssMiB * mib}
	}
	pull := benchCase{name: casePull, peerTarget: 0.85, floorTarget: 1.15}
	for _, tc := range []struct {
		name       string
		stats      []stat
		wantMissed int
		wantPeer   string
	}{
		{"all met", []stat{st("hoist", 80, 10), st("crane", 100, 14), st("oras", 120, 12), st(floorName, 75, 11)}, 0, "crane"},
		{"slower than the peer target", []stat{st("hoist", 90, 10), st("crane", 100, 14), st(floorName, 85, 11)}, 1, "crane"},
		{"misses floor and RSS", []stat{st("hoist", 80, 20), st("crane", 100, 14), st(floorName, 60, 11)}, 2, "crane"},
		{"a failed peer is not the fastest", []stat{st("hoist", 80, 10), {name: "regctl", runs: 1, failed: []error{io.EOF}}, st("crane", 100, 14), st(floorName, 75, 11)}, 0, "crane"},
		{"an N/A peer is ignored", []stat{st("hoist", 80, 10), {name: "oras", na: "no"}, st("crane", 100, 14)}, 0, "crane"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := judge(pull, tc.stats)
			if !ok {
				t.Fatal("judge found no hoist")
			}
			if len(v.missed) != tc.wantMissed {
				t.Errorf("missed %q, want %d misses (met %q)", v.missed, tc.wantMissed, v.met)
			}
			if v.fastest.name != tc.wantPeer {
				t.Errorf("fastest peer %q, want %q", v.fastest.name, tc.wantPeer)
			}
		})
	}
	if _, ok := judge(pull, []stat{st("crane", 1, 1), {name: "hoist", runs: 1, failed: []error{io.EOF}}}); ok {
		t.Error("judge with a failed hoist: ok, want not ok")
	}
}

func TestMergeSections(t *testing.T) {
	first := mergeSections("", map[string]string{"results": "R1", "sweep": "S1"})
	second := mergeSections(first, map[string]string{"results": "R2"})
	if !strings.Contains(second, "R2") || strings.Contains(second, "R1") {
		t.Errorf("results section not replaced:\n%s", second)
	}
	if !strings.Contains(second, "S1") {
		t.Errorf("sweep section not kept:\n%s", second)
	}
	if strings.Index(second, "R2") > strings.Index(second, "S1") {
		t.Errorf("sections out of order:\n%s", second)
	}
}

func TestReadPeakRSS(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, body string
		want       int64
		wantErr    bool
	}{
		{"success", "2048\n", 2 << 20, false},
		{"failed command", "Command exited with non-zero status 1\n1024\n", 1 << 20, false},
		{"garbage", "oops\n", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			if err := os.WriteFile(p, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := readPeakRSS(p)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("readPeakRSS = %d, %v; want %d, error %t", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// The layers must be the same bytes on every machine, or digests (and the
// cached source registry) would drift.
func TestWriteLayerIsDeterministic(t *testing.T) {
	for _, s := range []layerSpec{
		{name: "r", kind: kindRandom, bytes: 100 << 10},
		{name: "t", kind: kindText, bytes: 100 << 10, files: 3},
		{name: "s", kind: kindSmall, bytes: 100 << 10, files: 40},
	} {
		t.Run(string(s.kind), func(t *testing.T) {
			dir := t.TempDir()
			var sums [2][32]byte
			for i := range sums {
				p := filepath.Join(dir, "l.tar.gz")
				if err := writeLayer(p, s); err != nil {
					t.Fatal(err)
				}
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				sums[i] = sha256.Sum256(b)
			}
			if sums[0] != sums[1] {
				t.Fatal("two writes of the same spec differ")
			}
			n, files := tarPayload(t, filepath.Join(dir, "l.tar.gz"))
			want := s.files
			if s.kind == kindRandom {
				want = 1
			}
			if files != want {
				t.Errorf("%d files, want %d", files, want)
			}
			if s.kind != kindSmall && n != s.bytes {
				t.Errorf("%d payload bytes, want %d", n, s.bytes)
			}
		})
	}
}

func tarPayload(t *testing.T, path string) (bytes int64, files int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return bytes, files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			files++
			bytes += h.Size
		}
	}
}

// The fallback spawner must pass the exit status through and always leave
// a peak RSS behind, as GNU time does.
func TestSpawnerReportsExitAndRSS(t *testing.T) {
	stat := filepath.Join(t.TempDir(), "rss")
	if code := runSpawner([]string{stat, "--", "sh", "-c", "exit 3"}); code != 3 {
		t.Errorf("exit code %d, want 3", code)
	}
	rss, err := readPeakRSS(stat)
	if err != nil || rss <= 0 {
		t.Errorf("peak RSS %d, %v; want a positive size", rss, err)
	}
}

// loadNow reads the machine's busy time and its processors from
// /proc/stat, and this process's CPU by PID, and a run's share of the
// machine stays within [0, 1] for a run that kept one processor busy.
func TestLoadNow(t *testing.T) {
	before := loadNow(os.Getpid())
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
	}
	after := loadNow(os.Getpid())
	if after.cpus < 1 || after.busy <= 0 || after.servers <= 0 {
		t.Fatalf("loadNow read %+v", after)
	}
	d := after.since(before)
	if d.busy < 0 || d.servers < 0 {
		t.Fatalf("since went backwards: %+v", d)
	}
	if s := d.busyShare(50 * time.Millisecond); s < 0 || s > 1.5 {
		t.Fatalf("busy share %.2f", s)
	}
	if got := ticksToDuration(1 << 39); got <= 0 {
		t.Fatalf("ticksToDuration overflowed: %v", got)
	}
}
