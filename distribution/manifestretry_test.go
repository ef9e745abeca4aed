package distribution

import (
	"bytes"
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// A manifest GET whose body breaks (reset, truncated, empty, the wrong
// length, a flipped byte) is asked for again, a bounded number of times.
func TestManifestBrokenBodyRetried(t *testing.T) {
	isManifestGet := testutil.MatchRequest(http.MethodGet, "/manifests/")
	// Counted as they arrive: the proxy's log is written when a handler
	// ends, which for a broken answer can be after the client moved on.
	var gets atomic.Int32
	getManifest := func(r *http.Request) bool {
		if !isManifestGet(r) {
			return false
		}
		gets.Add(1)
		return true
	}
	for _, fk := range []testutil.FaultKind{testutil.FaultTruncate, testutil.FaultWrongLength, testutil.FaultEmpty200, testutil.FaultFlipByte} {
		t.Run(string(fk), func(t *testing.T) {
			srv := testutil.NewRegistry(t)
			img := newImage(t, nil, 100)
			img.push(t, mustRepo(t, client(t, srv.Host), "app"), "v1")
			gets.Store(0)
			p := testutil.NewFaultProxy(t, srv.URL, testutil.Fault{Match: getManifest, Times: 1, Action: fk.Action("")})
			r := mustRepo(t, client(t, p.Host), "app")
			for _, ref := range []string{"v1", img.desc.Digest.String()} {
				m, err := r.Manifest(context.Background(), ref)
				if err != nil || !bytes.Equal(m.Raw, img.manifest) {
					t.Fatalf("manifest %s after one broken answer: %v", ref, err)
				}
			}
			if n := gets.Load(); n != 3 {
				t.Fatalf("%d GETs, want 3 (one broken, one retry, one clean)", n)
			}

			// A registry that always breaks it is given up on.
			gets.Store(0)
			p = testutil.NewFaultProxy(t, srv.URL, testutil.Fault{Match: getManifest, Action: fk.Action("")})
			if _, err := mustRepo(t, client(t, p.Host), "app").Manifest(context.Background(), "v1"); err == nil {
				t.Fatal("a manifest broken every time was accepted")
			}
			if n := gets.Load(); n != maxManifestAttempts {
				t.Fatalf("%d GETs of an always-broken manifest, want %d", n, maxManifestAttempts)
			}
		})
	}
}
