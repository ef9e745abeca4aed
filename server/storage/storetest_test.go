package storage

import (
	"testing"

	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/storetest"
)

// hoist serve's storage, on the inmemory driver, keeps the store
// contract the client's stores keep.
func TestConformance(t *testing.T) {
	storetest.RunNamespace(t, func(t *testing.T) store.Namespace { return newNS(t) })
}
