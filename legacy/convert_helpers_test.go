package legacy

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
)

// memStore is a content-addressed blob store in memory: a BlobSink for
// ToOCI and a BlobSource for FromOCI. Fetch verifies what it hands out,
// like every hoist store.
type memStore struct {
	mu    sync.Mutex
	blobs map[digest.Digest][]byte
	puts  int
}

func newMemStore() *memStore { return &memStore{blobs: map[digest.Digest][]byte{}} }

func (s *memStore) PutBlob(_ context.Context, mediaType string, r io.Reader) (ocispec.Descriptor, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	d := content.NewDescriptor(mediaType, b)
	s.mu.Lock()
	s.blobs[d.Digest] = b
	s.puts++
	s.mu.Unlock()
	return d, nil
}

func (s *memStore) add(mediaType string, b []byte) ocispec.Descriptor {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := content.NewDescriptor(mediaType, b)
	s.blobs[d.Digest] = b
	return d
}

func (s *memStore) get(t testing.TB, d digest.Digest) []byte {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.blobs[d]
	if !ok {
		t.Fatalf("blob %s not in the store", d)
	}
	return b
}

func (s *memStore) Fetch(_ context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	s.mu.Lock()
	b, ok := s.blobs[desc.Digest]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%s: not found", desc.Digest)
	}
	v, err := content.NewVerifier(bytes.NewReader(b), desc)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(v), nil
}

// gunzip returns the decompressed bytes of b.
func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sha(b []byte) digest.Digest {
	h := sha256.Sum256(b)
	return digest.NewDigestFromBytes(digest.SHA256, h[:])
}

// ociImage builds an OCI image in s from layers (tar+gzip bytes) and
// history, and returns the manifest bytes.
func ociImage(t testing.TB, s *memStore, layers [][]byte, history []ocispec.History, imgCfg ocispec.ImageConfig) []byte {
	t.Helper()
	cfg := ocispec.Image{
		Platform: ocispec.Platform{Architecture: "arm64", OS: "linux", Variant: "v8"},
		Config:   imgCfg,
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{}},
		History:  history,
	}
	if len(history) > 0 {
		cfg.Created = history[len(history)-1].Created
		cfg.Author = history[len(history)-1].Author
	}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Layers: []ocispec.Descriptor{}}
	for _, l := range layers {
		mt := ocispec.MediaTypeImageLayerGzip
		diff := l
		if detectCompression(l) == compGzip {
			diff = gunzip(t, l)
		} else {
			mt = ocispec.MediaTypeImageLayer
		}
		m.Layers = append(m.Layers, s.add(mt, l))
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, sha(diff))
	}
	cb, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.Config = s.add(ocispec.MediaTypeImageConfig, cb)
	mb, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return mb
}

func ocispecVersioned() specs.Versioned { return specs.Versioned{SchemaVersion: 2} }
