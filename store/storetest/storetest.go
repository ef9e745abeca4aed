package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/store"
)

// Store describes a store to Run.
type Store struct {
	// New returns a new, empty store to write, with whatever optional
	// interfaces it has (store.Ingester, store.Deleter, ...). The test
	// cleans it up itself (t.TempDir, t.Cleanup).
	New func(t *testing.T) store.Writer
	// Read returns a reader of what w holds. It may finish w first, for a
	// store whose content shows only then (a docker archive is written by
	// Close), or open the same store again (a layout directory), which
	// checks that what was written lasts. Nil means w is its own reader
	// and must implement store.Reader.
	Read func(t *testing.T, w store.Writer) store.Reader
	// Namespace, when set, returns a new, empty store.Namespace: its
	// repositories' listing is tested too. New may then open repositories
	// of other namespaces.
	Namespace func(t *testing.T) store.Namespace
	// ImagesOnly says the store holds single-platform container images
	// only (a docker archive): no index, no artifact.
	ImagesOnly bool
	// Tag is the tag images are written under; it defaults to "v1".
	Tag string
	// Name, when set, is what the store's Resolve takes for the image
	// tagged tag: a docker archive names images REPOSITORY:TAG. Nil means
	// the tag itself.
	Name func(tag string) string
}

// name is what Resolve takes for tag.
func (s Store) name(tag string) string {
	if s.Name != nil {
		return s.Name(tag)
	}
	return tag
}

func (s Store) tag() string {
	if s.Tag != "" {
		return s.Tag
	}
	return "v1"
}

// read returns the reader of w's content.
func (s Store) read(t *testing.T, w store.Writer) store.Reader {
	t.Helper()
	if s.Read != nil {
		return s.Read(t, w)
	}
	r, ok := w.(store.Reader)
	if !ok {
		t.Fatalf("%T is not a store.Reader, and Store.Read is nil", w)
	}
	return r
}

var ctx = context.Background()

// Run runs the whole suite against s, each test in a subtest of t with a
// new store. It is safe under -race, and parallel only where the store's
// own concurrency is under test.
func Run(t *testing.T, s Store) {
	t.Helper()
	tests := []struct {
		name string
		f    func(*testing.T, Store)
	}{
		{"ImageRoundTrip", testImageRoundTrip},
		{"WrongContentRefused", testWrongContent},
		{"ChildrenBeforeParents", testChildrenFirst},
		{"NotFound", testNotFound},
		{"ConcurrentWriters", testConcurrent},
		{"Ingest", testIngest},
		{"IngestResume", testIngestResume},
		{"IngestMismatch", testIngestMismatch},
		{"IngestInterrupted", testIngestInterrupted},
		{"ConcurrentIngests", testConcurrentIngests},
		{"Tags", testTags},
		{"Stat", testStat},
		{"Delete", testDelete},
		{"Untag", testUntag},
		{"Referrers", testReferrers},
		{"Repositories", testRepositories},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, s) })
	}
}

// RunNamespace runs the suite against a store.Namespace: each test writes
// repository storetest/app of a new namespace newNS returns, and
// Repositories is tested too.
func RunNamespace(t *testing.T, newNS func(t *testing.T) store.Namespace) {
	t.Helper()
	Run(t, Store{
		New: func(t *testing.T) store.Writer {
			r, err := newNS(t).Repository(ctx, "storetest/app")
			if err != nil {
				t.Fatal(err)
			}
			if c, ok := r.(interface{ Close() error }); ok {
				t.Cleanup(func() { c.Close() })
			}
			return r
		},
		Namespace: newNS,
	})
}

// push writes b into w, failing the test on an error.
func push(t *testing.T, w store.Writer, b blob) {
	t.Helper()
	if err := w.Push(ctx, b.desc, bytes.NewReader(b.data)); err != nil {
		t.Fatalf("push %s: %v", b.desc.Digest, err)
	}
}

// pushImage writes img, children first, and tags it.
func pushImage(t *testing.T, w store.Writer, img image, tag string) {
	t.Helper()
	for _, b := range img.blobs() {
		push(t, w, b)
	}
	push(t, w, img.manifest)
	if err := w.Tag(ctx, img.manifest.desc, tag); err != nil {
		t.Fatalf("tag %s: %v", tag, err)
	}
}

// fetch reads desc from r, verified.
func fetch(t *testing.T, r store.Reader, desc ocispec.Descriptor) []byte {
	t.Helper()
	rc, err := r.Fetch(ctx, desc)
	if err != nil {
		t.Fatalf("fetch %s: %v", desc.Digest, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", desc.Digest, err)
	}
	return b
}

// checkImage asserts that r serves img under tag, byte for byte.
func checkImage(t *testing.T, r store.Reader, img image, tag string) {
	t.Helper()
	got, err := r.Resolve(ctx, tag)
	if err != nil {
		t.Fatalf("resolve %s: %v", tag, err)
	}
	if got.Digest != img.manifest.desc.Digest || got.Size != img.manifest.desc.Size {
		t.Fatalf("resolve %s = %s (%d bytes), want %s (%d)", tag, got.Digest, got.Size, img.manifest.desc.Digest, img.manifest.desc.Size)
	}
	if got.MediaType != img.manifest.desc.MediaType {
		t.Errorf("resolve %s: media type %q, want %q", tag, got.MediaType, img.manifest.desc.MediaType)
	}
	for _, b := range append(img.blobs(), img.manifest) {
		if !bytes.Equal(fetch(t, r, b.desc), b.data) {
			t.Errorf("%s reads back different bytes", b.desc.Digest)
		}
	}
}

// absent asserts that r does not serve desc: Fetch fails with
// store.ErrNotFound, or (a store that cannot tell before reading) the
// bytes fail their check.
func absent(t *testing.T, r store.Reader, desc ocispec.Descriptor) {
	t.Helper()
	rc, err := r.Fetch(ctx, desc)
	if err == nil {
		_, err = io.ReadAll(rc)
		rc.Close()
		if err == nil {
			t.Fatalf("%s is visible", desc.Digest)
		}
	}
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("fetch of absent %s: %v, want an error matching store.ErrNotFound", desc.Digest, err)
	}
}

// exists reports what w.Exists says of desc, failing the test on an
// error.
func exists(t *testing.T, w store.Writer, desc ocispec.Descriptor) bool {
	t.Helper()
	ok, err := w.Exists(ctx, desc)
	if err != nil {
		t.Fatalf("exists %s: %v", desc.Digest, err)
	}
	return ok
}

// pushIndex writes ix, whose manifests are in w, and tags it.
func pushIndex(t *testing.T, w store.Writer, ix blob, tag string) {
	t.Helper()
	push(t, w, ix)
	if err := w.Tag(ctx, ix.desc, tag); err != nil {
		t.Fatalf("tag %s: %v", tag, err)
	}
}

// parallel runs f(0) to f(n-1) at once and fails the test with each
// error.
func parallel(t *testing.T, n int, f func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = f(i) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
