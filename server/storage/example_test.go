package storage_test

import (
	"context"
	"fmt"
	"io"

	"github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/server/storage"
	"github.com/hoist-dev/hoist/store"
)

// An upload in two sessions, as a chunked v2 push makes it: bytes are
// stored between them, and the blob appears only once committed.
func ExampleNamespace_Repository() {
	ctx := context.Background()
	ns, err := storage.New(inmemory.New())
	if err != nil {
		panic(err)
	}
	repo, err := ns.Repository(ctx, "team/app")
	if err != nil {
		panic(err)
	}
	blob := "hello, registry"
	d := digest.FromString(blob)

	in, _ := repo.Ingest(ctx, "", store.IngestOptions{})
	in.Write([]byte(blob[:5]))
	in.Close() // the first request ends; its bytes and hash state stay

	ok, _ := repo.Exists(ctx, ocispec.Descriptor{Digest: d})
	fmt.Println("visible before commit:", ok)

	in, _ = repo.Ingest(ctx, in.Ref(), store.IngestOptions{Resume: true})
	fmt.Println("resumed at", in.Offset())
	in.Write([]byte(blob[5:]))
	desc, err := in.Commit(ctx, int64(len(blob)), d)
	fmt.Println("committed", desc.Size, "bytes:", err)

	rc, _ := repo.Fetch(ctx, desc)
	b, err := io.ReadAll(rc) // verified against desc as it is read
	rc.Close()
	fmt.Printf("read back %q: %v\n", b, err)
	// Output:
	// visible before commit: false
	// resumed at 5
	// committed 15 bytes: <nil>
	// read back "hello, registry": <nil>
}
