package distribution_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/distribution"
	"github.com/hoist-dev/hoist/internal/testutil"
)

// Push a blob, then read it back. The reader verifies size and digest as it
// streams; io.ReadAll returning nil means the bytes are the ones named.
func ExampleRepository_PushBlob() {
	host, stop := testutil.StartExampleRegistry()
	defer stop()
	ctx := context.Background()

	// WithPlainHTTP because the example registry has no TLS; real callers
	// pass hoist's transport with WithTransport instead.
	reg, err := distribution.NewRegistry(host, distribution.WithPlainHTTP())
	if err != nil {
		log.Fatal(err)
	}
	repo, err := reg.Repository("example/app")
	if err != nil {
		log.Fatal(err)
	}

	data := []byte("hello, registry")
	desc := content.NewDescriptor("application/octet-stream", data)
	if err := repo.PushBlob(ctx, desc, bytes.NewReader(data)); err != nil {
		log.Fatal(err)
	}

	rc, err := repo.Blob(ctx, desc)
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close() // the caller closes what Blob returns
	got, err := io.ReadAll(rc)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(desc.Digest)
	fmt.Printf("%s\n", got)
	// Output:
	// sha256:d4ceac3b8b759b17b86618c4165bb23a506c157c81a034147cf8e3510691aa1c
	// hello, registry
}

// Pull a manifest by tag and list what it refers to. m.Raw holds the bytes
// exactly as the registry sent them; m.Image is the parsed form.
func ExampleRepository_Manifest() {
	host, stop := testutil.StartExampleRegistry()
	defer stop()
	ctx := context.Background()
	reg, _ := distribution.NewRegistry(host, distribution.WithPlainHTTP())
	repo, _ := reg.Repository("example/app")

	// Set up: an image with an empty config and one layer.
	config, layer := []byte("{}"), []byte("layer bytes")
	cd := content.NewDescriptor(content.MediaTypeOCIConfig, config)
	ld := content.NewDescriptor(content.MediaTypeOCILayer, layer)
	if err := repo.PushBlob(ctx, cd, bytes.NewReader(config)); err != nil {
		log.Fatal(err)
	}
	if err := repo.PushBlob(ctx, ld, bytes.NewReader(layer)); err != nil {
		log.Fatal(err)
	}
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"digest":%q,"size":%d},"layers":[{"mediaType":%q,"digest":%q,"size":%d}]}`,
		content.MediaTypeOCIManifest, cd.MediaType, cd.Digest, cd.Size, ld.MediaType, ld.Digest, ld.Size)
	if _, err := repo.PutManifest(ctx, "v1", content.MediaTypeOCIManifest, []byte(manifest)); err != nil {
		log.Fatal(err)
	}

	// Pull it.
	m, err := repo.Manifest(ctx, "v1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Kind, m.Descriptor.MediaType, m.Descriptor.Size == int64(len(manifest)))
	for _, c := range content.Children(m) {
		fmt.Println(c.Role, c.Descriptor.Size)
	}
	// Output:
	// image application/vnd.oci.image.manifest.v1+json true
	// config 2
	// layer 11
}
