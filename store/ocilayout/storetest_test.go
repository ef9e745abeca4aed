package ocilayout

import (
	"path/filepath"
	"testing"

	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/storetest"
)

// The layout keeps the store contract; what was written reads back from
// the directory opened again.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Store{
		New: func(t *testing.T) store.Writer {
			l, err := Create(ctx, filepath.Join(t.TempDir(), "layout"))
			if err != nil {
				t.Fatal(err)
			}
			return l
		},
		Read: func(t *testing.T, w store.Writer) store.Reader {
			l, err := Open(ctx, w.(*Layout).Dir())
			if err != nil {
				t.Fatal(err)
			}
			return l
		},
	})
}
