package distribution

import (
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/internal/testutil"
)

const (
	bigBlobSize = 1 << 30
	rssBudget   = 64 << 20
	memChildEnv = "HOIST_TEST_MEMORY_CHILD"
)

// bigBlob is 1 GiB generated on the fly: one random MiB repeated. Nothing
// stores it; the server writes the block over and over.
type bigBlob struct {
	block []byte
	desc  ocispec.Descriptor
}

func newBigBlob(t testing.TB) *bigBlob {
	t.Helper()
	b := &bigBlob{block: randomBytes(t, 1<<20)}
	h := sha256.New()
	for i := 0; i < bigBlobSize/len(b.block); i++ {
		h.Write(b.block)
	}
	b.desc = ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.NewDigest(digest.SHA256, h), Size: bigBlobSize}
	return b
}

// serve streams the blob for any GET under /v2/.
func (b *bigBlob) serve(t testing.TB) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(bigBlobSize))
		w.Header().Set("Docker-Content-Digest", b.desc.Digest.String())
		for i := 0; i < bigBlobSize/len(b.block); i++ {
			if _, err := w.Write(b.block); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestPullOneGiBPeakRSS(t *testing.T) {
	testutil.CheckPeakRSS(t, memChildEnv, "1", rssBudget, func(t *testing.T, _ string) {
		b := newBigBlob(t)
		r := mustRepo(t, client(t, b.serve(t)), "big")
		rc, err := r.Blob(context.Background(), b.desc)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if n != bigBlobSize {
			t.Fatalf("pulled %d bytes, want %d", n, bigBlobSize)
		}
	})
}

// BenchmarkPullBlob1GiB reports pull throughput and the process's peak RSS.
func BenchmarkPullBlob1GiB(b *testing.B) {
	blob := newBigBlob(b)
	r := mustRepo(b, client(b, blob.serve(b)), "big")
	b.SetBytes(bigBlobSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.CopyBlob(context.Background(), blob.desc, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(testutil.PeakRSSKiB(b))/1024, "peak-RSS-MiB")
}
