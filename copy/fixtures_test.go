package copy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/memory"
)

// The engine's tests copy between store/memory repositories, wrapped
// where a test must see what the engine did (the order of writes, the
// mounts) or make a source fail.

// repo opens a new repository of a new namespace on registry host.
func repo(t *testing.T, host, name string) *memory.Repository {
	t.Helper()
	r, err := memory.New(memory.WithRegistry(host)).Open(name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newMem(t *testing.T) *memory.Repository { return repo(t, "reg.example", "team/app") }

// read returns d's bytes from r, or nil when r lacks it.
func read(t *testing.T, r store.Reader, d digest.Digest) []byte {
	t.Helper()
	rc, err := r.Fetch(ctx, ocispec.Descriptor{Digest: d, Size: -1})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tagged returns the digest tag names in r, "" when none.
func tagged(r store.Reader, tag string) digest.Digest {
	d, err := r.Resolve(ctx, tag)
	if err != nil {
		return ""
	}
	return d.Digest
}

// memRepo is memory.Repository under a name that does not hide its
// Repository method when embedded.
type memRepo = memory.Repository

// recorder is a target that logs what lands in it, in order: "blob D",
// "manifest D", "tag T".
type recorder struct {
	*memRepo
	mu  sync.Mutex
	log []string
}

func record(r *memory.Repository) *recorder { return &recorder{memRepo: r} }

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, s)
}

func (r *recorder) entries() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.log...)
}

func (r *recorder) Push(ctx context.Context, d ocispec.Descriptor, rd io.Reader) error {
	if err := r.memRepo.Push(ctx, d, rd); err != nil {
		return err
	}
	kind := "blob"
	if content.KindOf(d.MediaType) != content.KindUnknown {
		kind = "manifest"
	}
	r.add(kind + " " + d.Digest.String())
	return nil
}

func (r *recorder) PushTagged(ctx context.Context, d ocispec.Descriptor, rd io.Reader, tag string) error {
	if err := r.Push(ctx, d, rd); err != nil {
		return err
	}
	return r.Tag(ctx, d, tag)
}

func (r *recorder) Tag(ctx context.Context, d ocispec.Descriptor, tag string) error {
	if err := r.memRepo.Tag(ctx, d, tag); err != nil {
		return err
	}
	r.add("tag " + tag)
	return nil
}

func (r *recorder) Ingest(ctx context.Context, ref string, opts store.IngestOptions) (store.Ingest, error) {
	in, err := r.memRepo.Ingest(ctx, ref, opts)
	if err != nil {
		return nil, err
	}
	return &recordedIngest{Ingest: in, r: r}, nil
}

type recordedIngest struct {
	store.Ingest
	r *recorder
}

func (in *recordedIngest) Commit(ctx context.Context, size int64, d digest.Digest) (ocispec.Descriptor, error) {
	desc, err := in.Ingest.Commit(ctx, size, d)
	if err == nil {
		in.r.add("blob " + d.String())
	}
	return desc, err
}

// mounter is a target that records where its blobs were mounted from.
type mounter struct {
	*memRepo
	mu     sync.Mutex
	mounts []string
}

func (m *mounter) Mount(ctx context.Context, d ocispec.Descriptor, from string) (bool, error) {
	ok, err := m.memRepo.Mount(ctx, d, from)
	if ok {
		m.mu.Lock()
		m.mounts = append(m.mounts, from)
		m.mu.Unlock()
	}
	return ok, err
}

// failing is a source whose Fetch of one digest breaks half way, as a
// dropped connection does.
type failing struct {
	store.Reader
	on digest.Digest
}

func (f failing) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	rc, err := f.Reader.Fetch(ctx, d)
	if err != nil || d.Digest != f.on {
		return rc, err
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	return io.NopCloser(io.MultiReader(bytes.NewReader(b[:len(b)/2]), errReader{})), nil
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, fmt.Errorf("connection reset by test") }

// image builders ---------------------------------------------------------

func put(t *testing.T, s store.Writer, mediaType string, data []byte) ocispec.Descriptor {
	t.Helper()
	d := content.NewDescriptor(mediaType, data)
	if err := s.Push(ctx, d, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	return d
}

// addImage stores an image with the given layers' contents and returns its
// manifest descriptor.
func addImage(t *testing.T, s store.Writer, docker bool, platform string, layers ...string) ocispec.Descriptor {
	t.Helper()
	mt, cfgT, layerT := content.MediaTypeOCIManifest, content.MediaTypeOCIConfig, content.MediaTypeOCILayerGzip
	if docker {
		mt, cfgT, layerT = content.MediaTypeDockerManifest, content.MediaTypeDockerConfig, content.MediaTypeDockerLayer
	}
	cfg := put(t, s, cfgT, []byte(`{"architecture":"`+platform+`","os":"linux"}`))
	m := map[string]any{"schemaVersion": 2, "mediaType": mt, "config": cfg}
	ls := []ocispec.Descriptor{}
	for _, l := range layers {
		ls = append(ls, put(t, s, layerT, []byte(l)))
	}
	m["layers"] = ls
	raw, _ := json.Marshal(m)
	return put(t, s, mt, raw)
}

func addIndex(t *testing.T, s store.Writer, docker bool, platforms ...string) ocispec.Descriptor {
	t.Helper()
	mt := content.MediaTypeOCIIndex
	if docker {
		mt = content.MediaTypeDockerManifestList
	}
	var ms []ocispec.Descriptor
	for _, p := range platforms {
		d := addImage(t, s, docker, p, "base layer", "layer for "+p)
		pl, _ := content.ParsePlatform(p)
		d.Platform = &pl
		ms = append(ms, d)
	}
	raw, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": mt, "manifests": ms})
	return put(t, s, mt, raw)
}

func tag(t *testing.T, s store.Writer, d ocispec.Descriptor, tag string) {
	t.Helper()
	if err := s.Tag(ctx, d, tag); err != nil {
		t.Fatal(err)
	}
}
