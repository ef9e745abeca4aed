package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/testutil"
)

func TestParseProfiles(t *testing.T) {
	got, err := parseProfiles("far, throttled,far")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].name != "far" || got[1].name != "throttled" {
		t.Fatalf("parseProfiles = %+v, want far then throttled once each", got)
	}
	if got[1].rate != 10_000_000 || got[1].rtt() != 40*time.Millisecond {
		t.Errorf("throttled = %s each way, %d B/s; want 20ms each way, 10 MB/s", got[1].latency, got[1].rate)
	}
	if _, err := parseProfiles("lan,mars"); err == nil || !strings.Contains(err.Error(), "mars") || !strings.Contains(err.Error(), "slow") {
		t.Errorf("unknown profile: error %v, want one naming it and the choices", err)
	}
}

// The ranged floor must fetch every byte of every blob exactly once, in n
// slices of (nearly) equal length.
func TestSplitRanges(t *testing.T) {
	blobs := []blobRef{{"a", 100}, {"b", 7}, {"c", 1000}, {"d", 1}}
	for _, n := range []int{1, 3, 8, 2000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			slices := splitRanges(blobs, n)
			if len(slices) != n {
				t.Fatalf("%d slices, want %d", len(slices), n)
			}
			next := map[string]int64{}
			var longest, shortest int64 = 0, 1 << 62
			for _, sl := range slices {
				var l int64
				for _, p := range sl {
					if p.from != next[p.blob.digest] || p.to < p.from {
						t.Fatalf("piece %s %d-%d does not follow offset %d", p.blob.digest, p.from, p.to, next[p.blob.digest])
					}
					next[p.blob.digest] = p.to + 1
					l += p.to - p.from + 1
				}
				if l > 0 {
					longest, shortest = max(longest, l), min(shortest, l)
				}
			}
			for _, b := range blobs {
				if next[b.digest] != b.size {
					t.Errorf("blob %s covered to %d, want %d", b.digest, next[b.digest], b.size)
				}
			}
			if longest-shortest > ceilDiv(1108, int64(n)) {
				t.Errorf("slices from %d to %d bytes: not even", shortest, longest)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		method, path, rng string
		want              requestKind
	}{
		{"GET", "/v2/", "", kindPing},
		{"GET", "/token", "", kindToken},
		{"GET", "/v2/a/b/tags/list", "", kindTags},
		{"HEAD", "/v2/a/manifests/v1", "", kindManifestHead},
		{"GET", "/v2/a/manifests/sha256:ab", "", kindManifestGet},
		{"PUT", "/v2/a/manifests/v1", "", kindManifestPut},
		{"HEAD", "/v2/a/blobs/sha256:ab", "", kindBlobHead},
		{"GET", "/v2/a/blobs/sha256:ab", "", kindBlobGet},
		{"GET", "/v2/a/blobs/sha256:ab", "bytes=0-9", kindBlobGetRange},
		{"POST", "/v2/a/blobs/uploads/", "", kindUploadPost},
		{"PATCH", "/v2/a/blobs/uploads/u1", "", kindUploadPatch},
		{"PUT", "/v2/a/blobs/uploads/u1", "", kindUploadPut},
		{"GET", "/v2/a/blobs/uploads/u1", "", kindUploadOther},
		{"GET", "/v2/_catalog", "", kindOther},
	} {
		req, err := http.NewRequest(tc.method, "http://x"+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.rng != "" {
			req.Header.Set("Range", tc.rng)
		}
		if got := classify(req); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
}

// pushBlob uploads body to repo through host in one POST and one PUT.
func pushBlob(t *testing.T, c *http.Client, host, repo string, body []byte) string {
	t.Helper()
	dg := fmt.Sprintf("sha256:%x", sha256.Sum256(body))
	resp, err := c.Post("http://"+host+"/v2/"+repo+"/blobs/uploads/", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(loc, host) {
		t.Fatalf("POST upload: %s, Location %q; want 202 and a Location on %s", resp.Status, loc, host)
	}
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	req, _ := http.NewRequest(http.MethodPut, loc+sep+"digest="+dg, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/octet-stream")
	if resp, err = c.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT upload: %s", resp.Status)
	}
	return dg
}

// A registry behind the counting proxy sees the bytes unchanged (its
// digest check passes, a ranged read returns the right slice) and every
// request is counted by kind, with the connections opened.
func TestCountingProxyCountsWithoutChangingBytes(t *testing.T) {
	reg := testutil.NewRegistry(t)
	p, err := startCountingProxy(reg.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: time.Minute}

	body := bytes.Repeat([]byte("hoist bench "), 300_000) // 3.6 MB: many reads through the tee
	dg := pushBlob(t, c, p.addr, "bench/x", body)
	req, _ := http.NewRequest(http.MethodGet, blobURL(p.addr, "bench/x", dg), nil)
	req.Header.Set("Range", "bytes=1000-1999")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, body[1000:2000]) {
		t.Fatalf("ranged GET through the proxy: %s, %d bytes, %v; want 206 and bytes 1000-1999", resp.Status, len(got), err)
	}
	tr.CloseIdleConnections()

	counts := p.take()
	want := requestCounts{kindUploadPost: 1, kindUploadPut: 1, kindBlobGetRange: 1}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%s: %d, want %d (all: %v)", k, counts[k], n, counts)
		}
	}
	if counts.total() != 3 || counts[kindConnection] < 1 {
		t.Errorf("counts %v: want 3 requests over at least one connection", counts)
	}
	if again := p.take(); again.total() != 0 {
		t.Errorf("second take %v, want nothing: take starts afresh", again)
	}

	// A TLS attempt on the plain-http port (a client's probe) is a
	// connection that is not HTTP; it costs a round trip, so it counts.
	conn, err := tls.Dial("tcp", p.addr, &tls.Config{InsecureSkipVerify: true})
	if err == nil {
		conn.Close()
		t.Fatal("TLS handshake with a plain-http registry succeeded")
	}
	if probe := p.take(); probe[kindNotHTTP] != 1 || probe.total() != 1 {
		t.Errorf("after a TLS probe: %v, want one not-HTTP connection and nothing else", probe)
	}
}

// Under a shaped profile the source is reached through toxiproxy, with
// the latency and the per-connection cap on both directions, and a
// registry behind it works (Location headers name the address dialled).
func TestToxiproxyEndpoint(t *testing.T) {
	bin := testutil.NeedBinary(t, "toxiproxy-server", "run .ci/tools and put .tools/bin on PATH")
	reg := testutil.NewRegistry(t)
	ctx := context.Background()
	tp, err := startToxiproxy(ctx, bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer tp.stop()
	prof, _ := parseProfiles("throttled")
	h := &harness{prof: prof[0], toxi: tp}
	e, err := h.expose(ctx, reg.Host, true)
	if err != nil {
		t.Fatal(err)
	}
	defer e.close(ctx)

	var toxics []struct {
		Type       string           `json:"type"`
		Stream     string           `json:"stream"`
		Attributes map[string]int64 `json:"attributes"`
	}
	if err := tp.call(ctx, http.MethodGet, "/proxies/"+e.shape.name+"/toxics", nil, &toxics); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int64{}
	for _, tx := range toxics {
		switch tx.Type {
		case "latency":
			seen[tx.Type+"/"+tx.Stream] = tx.Attributes["latency"]
		case "bandwidth":
			seen[tx.Type+"/"+tx.Stream] = tx.Attributes["rate"]
		}
	}
	for k, v := range map[string]int64{"latency/upstream": 20, "latency/downstream": 20, "bandwidth/upstream": 10_000, "bandwidth/downstream": 10_000} {
		if seen[k] != v {
			t.Errorf("toxic %s = %d, want %d (have %v)", k, seen[k], v, seen)
		}
	}

	c := &http.Client{Timeout: time.Minute}
	pushBlob(t, c, e.addr, "bench/y", []byte("through toxiproxy"))
	if n := e.take()[kindUploadPut]; n != 1 {
		t.Errorf("upload PUTs counted behind toxiproxy: %d, want 1", n)
	}
	if _, err := startToxiproxy(ctx, filepath.Join(t.TempDir(), "missing"), t.TempDir()); err == nil || !strings.Contains(err.Error(), ".ci/tools") {
		t.Errorf("missing toxiproxy-server: %v, want an error saying to run .ci/tools", err)
	}
}
