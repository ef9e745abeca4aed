package memory_test

import (
	"bytes"
	"context"
	"fmt"
	"log"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/memory"
)

// Ingest a blob in two sessions, as an upload interrupted and resumed
// does; it is visible only once committed, and the catalog lists only
// repositories that hold an image.
func Example() {
	ctx := context.Background()
	ns := memory.New()
	repo, err := ns.Open("team/app")
	if err != nil {
		log.Fatal(err)
	}
	layer := []byte("a layer's bytes, in two parts")
	desc := content.NewDescriptor(content.MediaTypeOCILayerGzip, layer)

	in, _ := repo.Ingest(ctx, desc.Digest.String(), store.IngestOptions{Expected: desc})
	in.Write(layer[:10])
	in.Close() // interrupted: kept, not visible
	ok, _ := repo.Exists(ctx, desc)
	fmt.Println("visible after the first session:", ok)

	in, _ = repo.Ingest(ctx, desc.Digest.String(), store.IngestOptions{Expected: desc})
	fmt.Println("resumed at:", in.Offset())
	if err := store.CopyIngest(ctx, in, desc, bytes.NewReader(layer[in.Offset():])); err != nil {
		log.Fatal(err)
	}
	ok, _ = repo.Exists(ctx, desc)
	repos, _ := ns.Repositories(ctx, store.Page{})
	fmt.Println("visible after the commit:", ok, "catalog:", repos)
	// Output:
	// visible after the first session: false
	// resumed at: 10
	// visible after the commit: true catalog: []
}
