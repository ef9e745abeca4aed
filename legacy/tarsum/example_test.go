package tarsum_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/hoist-dev/hoist/legacy/tarsum"
)

// A v1 push computes both checksums while the layer streams to the
// registry: the layer is teed into a TarSum Writer and a Payload.
func Example() {
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	tw.WriteHeader(&tar.Header{Name: "file.txt", Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)})
	tw.Close()
	layerBytes := bytes.Clone(layer.Bytes())
	imageJSON := []byte(`{"id":"abc"}`)

	sum := tarsum.NewWriter()
	defer sum.Close() // always, also on early returns
	payload := tarsum.NewPayload(imageJSON)
	upload := io.Discard // the HTTP request body in a real push
	if _, err := io.Copy(io.MultiWriter(upload, sum, payload), &layer); err != nil {
		log.Fatal(err)
	}
	if err := sum.Close(); err != nil {
		log.Fatal(err) // not a tar
	}
	plain, _ := sum.Sum(nil)
	fmt.Println(plain)
	withJSON, _ := sum.Sum(imageJSON) // what X-Docker-Checksum carries
	fmt.Println(withJSON != plain)

	// The payload checksum is sha256(JSON + "\n" + layer).
	want := sha256.Sum256(append(append(imageJSON, '\n'), layerBytes...))
	fmt.Println(payload.Sum() == "sha256:"+hex.EncodeToString(want[:]))
	// Output:
	// tarsum+sha256:626c4a2e9a467d65c33ae81f7f3dedd4de8ccaee72af73223c4bc4718cbc7bbd
	// true
	// true
}
