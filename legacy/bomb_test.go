package legacy

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestGzipBombLayer: a v1 layer of 2 MiB that gunzips to 2 GiB (2048
// gzip members of 1 MiB of zeros each) is refused while its diff_id is
// computed, once it has decompressed past the bound, instead of hashing
// all of it.
func TestGzipBombLayer(t *testing.T) {
	var member bytes.Buffer
	zw := gzip.NewWriter(&member)
	zw.Write(make([]byte, 1<<20))
	zw.Close()
	bomb := bytes.Repeat(member.Bytes(), 2048)
	sink := BlobSinkFunc(func(ctx context.Context, mt string, r io.Reader) (ocispec.Descriptor, error) {
		n, err := io.Copy(io.Discard, r)
		return ocispec.Descriptor{MediaType: mt, Size: n, Digest: digest.FromBytes(bomb)}, err
	})
	_, err := convertLayer(context.Background(), bytes.NewReader(bomb), sink, false, "layer x")
	if !errors.Is(err, ErrLayerBomb) || !strings.Contains(err.Error(), "layer x") {
		t.Fatalf("err = %v, want ErrLayerBomb naming the layer", err)
	}
}
