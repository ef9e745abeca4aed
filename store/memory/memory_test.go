package memory_test

import (
	"testing"

	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/memory"
	"github.com/hoist-dev/hoist/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.RunNamespace(t, func(t *testing.T) store.Namespace { return memory.New() })
}
