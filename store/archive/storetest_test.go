package archive

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/storetest"
)

// The archive writer and reader keep the store contract together: what
// the writer took reads back from the finished archive. Every finished
// archive also holds each member once, and leaves no temporary or spool
// file beside it.
func TestConformance(t *testing.T) {
	ref := mustRef(t, "storetest.example/app")
	storetest.Run(t, storetest.Store{
		New: func(t *testing.T) store.Writer {
			w, err := Create(ctx, filepath.Join(t.TempDir(), "app.tar"), WithReference(ref))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Abort(ctx) })
			return w
		},
		Read: func(t *testing.T, w store.Writer) store.Reader {
			aw := w.(*Writer)
			if err := aw.Close(); err != nil {
				t.Fatal(err)
			}
			names, _ := members(t, aw.path)
			if len(names) != len(slices.Compact(slices.Sorted(slices.Values(names)))) {
				t.Errorf("the archive holds a member twice: %v", names)
			}
			if entries, _ := os.ReadDir(filepath.Dir(aw.path)); len(entries) != 1 {
				t.Errorf("files left beside the archive: %v", entries)
			}
			r, err := Open(ctx, aw.path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			return r
		},
		ImagesOnly: true,
		Name:       func(tag string) string { return "storetest.example/app:" + tag },
	})
}
