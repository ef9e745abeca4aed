package remote

import (
	"testing"

	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/storetest"
	"github.com/hoist-dev/hoist/transport"
)

// The reference registry (distribution v3, in-process) through the v2
// client keeps the store contract: a Registry is a store.Namespace, its
// repositories whole store.Repository stores.
func TestConformance(t *testing.T) {
	client := transport.NewClient(transport.New())
	storetest.RunNamespace(t, func(t *testing.T) store.Namespace {
		ns, err := NewRegistry(testutil.NewRegistry(t).Host, client)
		if err != nil {
			t.Fatal(err)
		}
		return ns
	})
}
