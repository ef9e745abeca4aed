package legacy

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/server"
)

// The index names several registries and the first one is down (a closed
// port) or broken (500 for everything): pulls and pushes move on to the
// next, and the push's close names only the registry that got the image.
func TestSeveralEndpointsFirstFails(t *testing.T) {
	broken := &recorder{}
	bad := httptest.NewServer(broken.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "registry on fire", http.StatusInternalServerError)
	})))
	t.Cleanup(bad.Close)
	firsts := map[string]string{
		"closed port": fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)),
		"500s":        hostOf(bad),
	}
	for name, first := range firsts {
		t.Run(name, func(t *testing.T) {
			// The index (and good registry) announces first, then itself.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			self := ln.Addr().String()
			srv, err := server.NewV1(t.TempDir(), server.WithV1Account(foo42), server.WithV1Standalone(false),
				server.WithV1Endpoints(first, self))
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{}
			ts := &httptest.Server{Listener: ln, Config: &http.Server{Handler: rec.wrap(srv)}}
			ts.Start()
			t.Cleanup(ts.Close)

			ctx := context.Background()
			c := newTestClient(t, self, WithKeychain(staticCred(foo42)))
			chain := testChain(t)
			res, err := c.Push(ctx, "foo42/bar", "latest", sliceChain(chain))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Registries) != 2 || res.Registries[0].Err == nil || res.Registries[1].Err != nil {
				t.Fatalf("registries %+v, want the first failed and the second used", res.Registries)
			}
			if used := res.Used(); len(used) != 1 || used[0].Host != self {
				t.Errorf("used %v, want only %s", used, self)
			}
			closing := rec.find(http.MethodPut, "/repositories/foo42/bar/images")
			if len(closing) != 1 || !slices.Equal(closing[0].endpoints, []string{"https://" + self + "/v1/"}) {
				t.Errorf("close named %+v, want only the registry used", closing)
			}

			broken.mu.Lock()
			broken.reqs = nil
			broken.mu.Unlock()
			got := pullAll(t, newTestClient(t, self), "foo42/bar", "latest")
			sameImages(t, got, chain)
			// Once the second registry answered, it is asked first.
			for _, r := range broken.all() {
				if !strings.HasSuffix(r.path, "/tags") {
					t.Errorf("the broken registry was asked %s after the good one answered", r.path)
				}
			}
		})
	}
}
