package legacy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// layoutSink is the smallest OCI image layout writer that streams: each
// blob goes to a temporary file while it is hashed, and is renamed into
// blobs/sha256/ at EOF. It shows the BlobSink contract met without
// holding a blob in memory.
type layoutSink struct{ dir string }

func newLayoutSink(t testing.TB) *layoutSink {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return &layoutSink{dir: dir}
}

func (s *layoutSink) PutBlob(_ context.Context, mediaType string, r io.Reader) (ocispec.Descriptor, error) {
	f, err := os.CreateTemp(s.dir, "blob-*")
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer os.Remove(f.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	hexSum := hex.EncodeToString(h.Sum(nil))
	if err := os.Rename(f.Name(), filepath.Join(s.dir, "blobs", "sha256", hexSum)); err != nil {
		return ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.NewDigestFromEncoded(digest.SHA256, hexSum), Size: n}, nil
}

// tag stores the manifest and names it in index.json.
func (s *layoutSink) tag(t testing.TB, img *OCIImage, tag string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, "blobs", "sha256", img.ManifestDescriptor.Digest.Encoded()), img.Manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	d := img.ManifestDescriptor
	d.Annotations = map[string]string{ocispec.AnnotationRefName: tag}
	ix, _ := json.Marshal(ocispec.Index{Versioned: ocispecVersioned(), MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{d}})
	if err := os.WriteFile(filepath.Join(s.dir, "index.json"), ix, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The testdata chain pulled from the v1 registry and converted is an OCI
// layout that skopeo reads and umoci unpacks (umoci checks every layer
// against its diff_id); the child's file wins over the base's.
func TestConvertedLayoutInterop(t *testing.T) {
	skopeo := testutil.NeedBinary(t, "skopeo", "apt-get install skopeo")
	umoci := testutil.NeedBinary(t, "umoci", "apt-get install umoci")
	_, ts := v1Server(t, nil)
	seed(t, ts.URL, "foo42/bar", "latest", testChain(t))
	ctx := context.Background()
	rc, err := newTestClient(t, hostOf(ts)).Pull(ctx, "foo42/bar", "latest")
	if err != nil {
		t.Fatal(err)
	}
	sink := newLayoutSink(t)
	img, err := ToOCI(ctx, rc, sink)
	if err != nil {
		t.Fatal(err)
	}
	sink.tag(t, img, "latest")

	out, err := exec.Command(skopeo, "inspect", "oci:"+sink.dir+":latest").CombinedOutput()
	if err != nil {
		t.Fatalf("skopeo inspect: %v\n%s", err, out)
	}
	var info struct {
		Layers       []string
		Architecture string
		Os           string
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("skopeo said %s: %v", out, err)
	}
	if len(info.Layers) != 2 || info.Layers[0] != img.Layers[0].Digest.String() || info.Architecture != "amd64" || info.Os != "linux" {
		t.Errorf("skopeo inspect: %s", out)
	}

	bundle := filepath.Join(t.TempDir(), "bundle")
	if out, err := exec.Command(umoci, "unpack", "--rootless", "--image", sink.dir+":latest", bundle).CombinedOutput(); err != nil {
		t.Fatalf("umoci unpack: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(bundle, "rootfs", "test.txt"))
	if err != nil || string(got) != "child\n" {
		t.Errorf("rootfs/test.txt = %q, %v; want the child's", got, err)
	}
}
