package syncer

import (
	"context"
	"net/http"
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/legacy"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store/remote"
	"github.com/hoist-dev/hoist/transport"
)

// testEnv is the part of a hoist.Session a Syncer uses: a plain client
// per host over hoist's transport, and v2 everywhere.
type testEnv struct{ tr http.RoundTripper }

func (e testEnv) RegistryClient(host string) *http.Client { return transport.NewClient(e.tr) }
func (e testEnv) Protocol(ctx context.Context, registry string) (remote.Protocol, error) {
	return remote.V2, nil
}
func (e testEnv) LegacyOptions() []legacy.Option { return nil }

func newEnv() testEnv { return testEnv{tr: transport.New()} }

// pushImage puts img into host's repo under tag.
func pushImage(t *testing.T, host, repo, tag string, img *testutil.Image) {
	t.Helper()
	ctx := context.Background()
	ref := reference.Reference{Registry: host, Repository: repo, Tag: tag}
	r, err := remote.New(ref, newEnv().RegistryClient(host))
	if err != nil {
		t.Fatal(err)
	}
	if err := testutil.CopyGraph(ctx, img, img.Root, r); err != nil {
		t.Fatal(err)
	}
	if err := r.Tag(ctx, img.Root, tag); err != nil {
		t.Fatal(err)
	}
}
