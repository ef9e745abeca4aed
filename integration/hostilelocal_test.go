//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store/ocilayout"
)

// silentPeer accepts TCP connections and never writes a byte; it returns
// its address and a counter of connections.
func silentPeer(t *testing.T) (string, func() int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu = make(chan struct{}, 1)
	n := 0
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu <- struct{}{}
			n++
			conns = append(conns, c)
			<-mu
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu <- struct{}{}
		for _, c := range conns {
			c.Close()
		}
		<-mu
	})
	return l.Addr().String(), func() int { mu <- struct{}{}; defer func() { <-mu }(); return n }
}

// TestHostilePeers: a peer that accepts TCP and never answers is bounded
// by the response-header timeout (which covers the TLS handshake too),
// tried twice at most; with the default timeouts too it ends within the
// 60 s bound.
func TestHostilePeers(t *testing.T) {
	t.Parallel()
	t.Run("accepts and never answers", func(t *testing.T) {
		t.Parallel()
		addr, conns := silentPeer(t)
		bounded(t, nil, []string{addr + ": no answer within 2s of the request", "(wait longer with --response-timeout DURATION)"},
			"--response-timeout", "2s", "tags", addr+"/app")
		// Two timeouts in a row end the request, and protocol detection
		// neither pings /v2/ nor asks /v1/_ping of a host that timed
		// out. Each attempt is two connections: while a loopback host's
		// scheme is unknown, https and plain http race.
		if n := conns(); n != 4 {
			t.Errorf("%d connections, want 4 (two attempts over https and http)", n)
		}
	})
	t.Run("accepts and never answers, default timeouts", func(t *testing.T) {
		t.Parallel()
		addr, _ := silentPeer(t)
		// Over https the TLS handshake timeout (15 s) ends each attempt
		// first: two of them.
		bounded(t, nil, []string{addr + " is unreachable: GET https://" + addr + "/v2/app/manifests/v1: net/http: TLS handshake timeout"},
			"pull", addr+"/app:v1", "oci:"+filepath.Join(t.TempDir(), "out"))
	})
}

// writeLayout writes img into a new OCI layout at dir, tagged v1.
func writeLayout(t *testing.T, dir string, img *testutil.Image) *ocilayout.Layout {
	t.Helper()
	ctx := context.Background()
	lay, err := ocilayout.Create(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := testutil.CopyGraph(ctx, img, img.Root, lay); err != nil {
		t.Fatal(err)
	}
	if err := lay.Tag(ctx, img.Root, "v1"); err != nil {
		t.Fatal(err)
	}
	return lay
}

// pushLayout writes img into a fresh layout, tagged v1, and returns its
// directory.
func pushLayout(t *testing.T, img *testutil.Image) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "src")
	writeLayout(t, dir, img)
	return dir
}

// TestHostileLayouts: a layout whose blob is a symlink to a file outside
// it (with the right content) is refused before a byte of that blob goes
// to the registry; index.json entries whose digests climb out of the
// layout are refused before any path is built from them.
func TestHostileLayouts(t *testing.T) {
	t.Parallel()
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "hostile-layout", Layers: 2, LayerBytes: 50_000})
	layer := img.Layers[0][1]

	t.Run("symlinked blob", func(t *testing.T) {
		t.Parallel()
		dir := pushLayout(t, img)
		secret := filepath.Join(t.TempDir(), "secret")
		os.WriteFile(secret, img.Blobs[layer.Digest], 0o600)
		p := filepath.Join(dir, "blobs", "sha256", layer.Digest.Encoded())
		os.Remove(p)
		if err := os.Symlink(secret, p); err != nil {
			t.Fatal(err)
		}
		reg := testutil.NewRegistry(t)
		proxy := testutil.NewFaultProxy(t, reg.URL)
		bounded(t, nil, []string{"blobs/sha256/" + layer.Digest.Encoded() + " is a symlink", "hoist reads only regular files inside the layout"},
			"push", "oci:"+dir+":v1", proxy.Host+"/app:v1")
		for _, r := range proxy.Requests() {
			if strings.Contains(r.Path, "digest="+layer.Digest.String()) || r.Method == "PATCH" {
				t.Errorf("the symlinked blob was sent: %s %s", r.Method, r.Path)
			}
		}
	})

	t.Run("symlinked blobs directory", func(t *testing.T) {
		t.Parallel()
		dir := pushLayout(t, img)
		moved := filepath.Join(t.TempDir(), "blobs")
		os.Rename(filepath.Join(dir, "blobs"), moved)
		os.Symlink(moved, filepath.Join(dir, "blobs"))
		reg := testutil.NewRegistry(t)
		bounded(t, nil, []string{"leads outside the layout through a symlink"}, "push", "oci:"+dir+":v1", reg.Host+"/app:v1")
	})

	for _, bad := range []string{"sha256:../../../../etc/passwd", "/etc/passwd", "md5:d41d8cd98f00b204e9800998ecf8427e"} {
		t.Run("index.json digest "+bad, func(t *testing.T) {
			t.Parallel()
			dir := pushLayout(t, img)
			ix := map[string]any{"schemaVersion": 2, "manifests": []any{map[string]any{
				"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": bad, "size": 100,
				"annotations": map[string]string{"org.opencontainers.image.ref.name": "v1"}}}}
			b, _ := json.Marshal(ix)
			os.WriteFile(filepath.Join(dir, "index.json"), b, 0o644)
			reg := testutil.NewRegistry(t)
			bounded(t, nil, []string{"digest"}, "push", "oci:"+dir+":v1", reg.Host+"/app:v1")
		})
	}
}
