package copy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
)

// memStore is an in-memory store for engine tests: it verifies what it is
// given, records the order of writes, and can pretend to be a repository of
// a registry (for mounts) or hold partial blobs (for resumes).
type memStore struct {
	mu       sync.Mutex
	registry string
	repo     string
	shared   *memRegistry // blobs of every repo of the registry, for Mount
	blobs    map[digest.Digest][]byte
	tags     map[string]ocispec.Descriptor
	tagOrder []string
	log      []string // "blob D", "manifest D", "tag T"
	partial  map[digest.Digest][]byte
	failOn   digest.Digest // Fetch of this digest fails mid-way
	fetches  int
}

type memRegistry struct {
	mu    sync.Mutex
	repos map[string]*memStore
}

func newMem() *memStore {
	return &memStore{blobs: map[digest.Digest][]byte{}, tags: map[string]ocispec.Descriptor{}, partial: map[digest.Digest][]byte{}}
}

func (r *memRegistry) repo(name string) *memStore {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.repos == nil {
		r.repos = map[string]*memStore{}
	}
	if s, ok := r.repos[name]; ok {
		return s
	}
	s := newMem()
	s.registry, s.repo, s.shared = "reg.example", name, r
	r.repos[name] = s
	return s
}

func (s *memStore) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.tags[ref]; ok {
		return d, nil
	}
	return ocispec.Descriptor{}, fmt.Errorf("tag %q: %w", ref, store.ErrNotFound)
}

func (s *memStore) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	s.mu.Lock()
	b, ok := s.blobs[d.Digest]
	s.fetches++
	fail := s.failOn == d.Digest
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%s: %w", d.Digest, store.ErrNotFound)
	}
	var r io.Reader = bytes.NewReader(b)
	if fail {
		r = io.MultiReader(bytes.NewReader(b[:len(b)/2]), errReader{})
	}
	v, err := content.NewVerifier(r, d)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(v), nil
}

func (s *memStore) FetchFrom(ctx context.Context, d ocispec.Descriptor, off int64) (io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return io.NopCloser(bytes.NewReader(s.blobs[d.Digest][off:])), nil
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, fmt.Errorf("connection reset by test") }

func (s *memStore) Exists(ctx context.Context, d ocispec.Descriptor) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.blobs[d.Digest]
	return ok, nil
}

func (s *memStore) Push(ctx context.Context, d ocispec.Descriptor, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if digest.FromBytes(b) != d.Digest || int64(len(b)) != d.Size {
		return fmt.Errorf("push %s: content does not match", d.Digest)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blobs[d.Digest] = b
	kind := "blob"
	if content.KindOf(d.MediaType) != content.KindUnknown {
		kind = "manifest"
	}
	s.log = append(s.log, kind+" "+d.Digest.String())
	return nil
}

func (s *memStore) PushFrom(ctx context.Context, d ocispec.Descriptor, off int64, r io.Reader) error {
	s.mu.Lock()
	prefix := s.partial[d.Digest]
	delete(s.partial, d.Digest)
	s.mu.Unlock()
	if int64(len(prefix)) != off {
		return fmt.Errorf("partial has %d bytes, not %d", len(prefix), off)
	}
	return s.Push(ctx, d, io.MultiReader(bytes.NewReader(prefix), r))
}

func (s *memStore) Partial(ctx context.Context, d ocispec.Descriptor) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.partial[d.Digest])), nil
}

func (s *memStore) Tag(ctx context.Context, d ocispec.Descriptor, tag string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.blobs[d.Digest]; !ok {
		return fmt.Errorf("tag %s: manifest %s missing", tag, d.Digest)
	}
	if _, ok := s.tags[tag]; !ok {
		s.tagOrder = append(s.tagOrder, tag)
	}
	s.tags[tag] = d
	s.log = append(s.log, "tag "+tag)
	return nil
}

func (s *memStore) Tags(ctx context.Context, p store.Page) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]string(nil), s.tagOrder...)
	sort.Strings(out)
	return store.PageOf(out, p), nil
}

// memMounter wraps a memStore of a registry so that it offers Mount.
type memMounter struct {
	*memStore
	mounts []string
}

func (m *memMounter) Registry() string   { return m.registry }
func (m *memMounter) Repository() string { return m.repo }

func (m *memMounter) Mount(ctx context.Context, d ocispec.Descriptor, from string) (bool, error) {
	src := m.shared.repo(from)
	src.mu.Lock()
	b, ok := src.blobs[d.Digest]
	src.mu.Unlock()
	if !ok {
		return false, nil
	}
	m.mu.Lock()
	m.blobs[d.Digest] = b
	m.mounts = append(m.mounts, from)
	m.mu.Unlock()
	return true, nil
}

// located makes a plain memStore report its registry and repository (a
// source on the same registry).
type locatedMem struct{ *memStore }

func (l locatedMem) Registry() string   { return l.registry }
func (l locatedMem) Repository() string { return l.repo }

// image builders ---------------------------------------------------------

func put(t *testing.T, s *memStore, mediaType string, data []byte) ocispec.Descriptor {
	t.Helper()
	d := content.NewDescriptor(mediaType, data)
	s.blobs[d.Digest] = data
	return d
}

// addImage stores an image with the given layers' contents and returns its
// manifest descriptor.
func addImage(t *testing.T, s *memStore, docker bool, platform string, layers ...string) ocispec.Descriptor {
	t.Helper()
	mt, cfgT, layerT := content.MediaTypeOCIManifest, content.MediaTypeOCIConfig, content.MediaTypeOCILayerGzip
	if docker {
		mt, cfgT, layerT = content.MediaTypeDockerManifest, content.MediaTypeDockerConfig, content.MediaTypeDockerLayer
	}
	cfg := put(t, s, cfgT, []byte(`{"architecture":"`+platform+`","os":"linux"}`))
	m := map[string]any{"schemaVersion": 2, "mediaType": mt, "config": cfg}
	var ls []ocispec.Descriptor
	for _, l := range layers {
		ls = append(ls, put(t, s, layerT, []byte(l)))
	}
	m["layers"] = ls
	raw, _ := json.Marshal(m)
	return put(t, s, mt, raw)
}

func addIndex(t *testing.T, s *memStore, docker bool, platforms ...string) ocispec.Descriptor {
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
