package testutil

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
)

// ImageSpec says what NewImage builds.
type ImageSpec struct {
	// Seed makes the content unique: images with different seeds share no
	// layer.
	Seed string
	// Platforms are "os/arch[/variant]" strings. One platform yields an
	// image manifest as the root unless Index is set; several yield an
	// index of image manifests. Empty means linux/amd64.
	Platforms []string
	// Index wraps a single platform in an index too.
	Index bool
	// Docker uses Docker schema 2 media types instead of OCI ones.
	Docker bool
	// Layers is the number of layers per image (default 2).
	Layers int
	// LayerBytes is the size of the one file in each layer (default 4096).
	LayerBytes int
	// Uncompressed stores layers as plain tar instead of gzip.
	Uncompressed bool
	// Base, when set, makes the first layer of each image from this seed
	// alone, so that images with the same Base share it (as images built
	// FROM one base do).
	Base string
}

// Image is a small, valid image graph held in memory for store tests:
// layers are real tar streams (gzip'd unless asked otherwise) and each
// config's rootfs.diff_ids are their uncompressed digests, so docker load,
// skopeo and umoci accept the result.
//
// Image implements store.Reader and store.RangeReader over Blobs; it is safe
// for concurrent use once built.
type Image struct {
	// Root is the index, or the image manifest for a single platform.
	Root ocispec.Descriptor
	// Manifests are the image manifests, in platform order.
	Manifests []ocispec.Descriptor
	// Configs are the config descriptors, in platform order.
	Configs []ocispec.Descriptor
	// Layers are each image's layer descriptors, in platform order.
	Layers [][]ocispec.Descriptor
	// DiffIDs are each image's uncompressed layer digests.
	DiffIDs [][]digest.Digest
	// Blobs holds every manifest, config and layer by digest.
	Blobs map[digest.Digest][]byte
}

// NewImage builds the image spec describes. The bytes are a function of
// spec alone, so two calls with one spec give the same digests.
func NewImage(t testing.TB, spec ImageSpec) *Image {
	t.Helper()
	return buildImage(t, spec)
}

// fataler is the part of testing.TB that building an image needs.
type fataler interface {
	Helper()
	Fatal(args ...any)
}

// errFataler turns Fatal into a panic that BuildImage recovers.
type errFataler struct{}

type buildError struct{ err error }

func (errFataler) Helper() {}
func (errFataler) Fatal(args ...any) {
	panic(buildError{fmt.Errorf("%s", fmt.Sprint(args...))})
}

// BuildImage is NewImage for programs without a testing.TB (the fault
// campaign).
func BuildImage(spec ImageSpec) (img *Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			be, ok := r.(buildError)
			if !ok {
				panic(r)
			}
			img, err = nil, be.err
		}
	}()
	return buildImage(errFataler{}, spec), nil
}

func buildImage(t fataler, spec ImageSpec) *Image {
	t.Helper()
	if len(spec.Platforms) == 0 {
		spec.Platforms = []string{"linux/amd64"}
	}
	if spec.Layers == 0 {
		spec.Layers = 2
	}
	if spec.LayerBytes == 0 {
		spec.LayerBytes = 4096
	}
	mt := struct{ manifest, index, config, layer string }{
		content.MediaTypeOCIManifest, content.MediaTypeOCIIndex, content.MediaTypeOCIConfig, content.MediaTypeOCILayerGzip,
	}
	if spec.Uncompressed {
		mt.layer = content.MediaTypeOCILayer
	}
	if spec.Docker {
		mt.manifest, mt.index, mt.config, mt.layer = content.MediaTypeDockerManifest, content.MediaTypeDockerManifestList,
			content.MediaTypeDockerConfig, content.MediaTypeDockerLayer
		if spec.Uncompressed {
			mt.layer = "application/vnd.docker.image.rootfs.diff.tar"
		}
	}
	img := &Image{Blobs: map[digest.Digest][]byte{}}
	add := func(mediaType string, b []byte) ocispec.Descriptor {
		d := content.NewDescriptor(mediaType, b)
		img.Blobs[d.Digest] = b
		return d
	}
	marshal := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var entries []ocispec.Descriptor
	for pi, p := range spec.Platforms {
		plat, err := content.ParsePlatform(p)
		if err != nil {
			t.Fatal(err)
		}
		var layers []ocispec.Descriptor
		var diffIDs []digest.Digest
		for li := range spec.Layers {
			name := fmt.Sprintf("%s/%d/layer%d", spec.Seed, pi, li)
			if li == 0 && spec.Base != "" {
				name = fmt.Sprintf("base %s/%d", spec.Base, pi)
			}
			raw := TarOneFile(t, name, pseudoRandom(name, spec.LayerBytes))
			diffIDs = append(diffIDs, digest.FromBytes(raw))
			blob := raw
			if !spec.Uncompressed {
				blob = Gzip(t, raw)
			}
			layers = append(layers, add(mt.layer, blob))
		}
		cfg := ocispec.Image{
			Platform: ocispec.Platform{OS: plat.OS, Architecture: plat.Architecture, Variant: plat.Variant},
			Config:   ocispec.ImageConfig{Env: []string{"SEED=" + spec.Seed}, Cmd: []string{"/bin/sh"}},
			RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: diffIDs},
		}
		for li := range layers {
			cfg.History = append(cfg.History, ocispec.History{CreatedBy: fmt.Sprintf("hoist test layer %d", li)})
		}
		cd := add(mt.config, marshal(cfg))
		m := ocispec.Manifest{MediaType: mt.manifest, Config: cd, Layers: layers}
		m.SchemaVersion = 2
		md := add(mt.manifest, marshal(m))
		img.Manifests = append(img.Manifests, md)
		img.Configs = append(img.Configs, cd)
		img.Layers = append(img.Layers, layers)
		img.DiffIDs = append(img.DiffIDs, diffIDs)
		entry := md
		entry.Platform = &plat
		entries = append(entries, entry)
	}
	if len(entries) == 1 && !spec.Index {
		img.Root = img.Manifests[0]
		return img
	}
	ix := ocispec.Index{MediaType: mt.index, Manifests: entries}
	ix.SchemaVersion = 2
	img.Root = add(mt.index, marshal(ix))
	return img
}

// Resolve returns Root for "" or Root's digest, and the manifest with that
// digest for any other digest string.
func (img *Image) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	if ref == "" || ref == img.Root.Digest.String() {
		return img.Root, nil
	}
	for _, m := range img.Manifests {
		if m.Digest.String() == ref {
			return m, nil
		}
	}
	return ocispec.Descriptor{}, fmt.Errorf("test image has no manifest %q: %w", ref, store.ErrNotFound)
}

// Fetch returns the blob desc names, verified as it is read; the reader
// implements content.Verifying.
func (img *Image) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	b, ok := img.Blobs[desc.Digest]
	if !ok {
		return nil, fmt.Errorf("test image has no blob %s: %w", desc.Digest, store.ErrNotFound)
	}
	v, err := content.NewVerifier(bytes.NewReader(b), desc)
	if err != nil {
		return nil, err
	}
	return verifyingCloser{v}, nil
}

// verifyingCloser keeps the Verifier's VerifiedAgainst visible
// (content.Verifying), as stores' Fetch readers do.
type verifyingCloser struct{ *content.Verifier }

func (verifyingCloser) Close() error { return nil }

// FetchFrom returns the blob from offset on.
func (img *Image) FetchFrom(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	b, ok := img.Blobs[desc.Digest]
	if !ok {
		return nil, fmt.Errorf("test image has no blob %s: %w", desc.Digest, store.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(b[offset:])), nil
}

// CopyGraph copies the graph under root from src to dst the way the copy
// engine does: children before parents, blobs concurrently, blobs dst
// already has skipped. It does not tag. Tests use it to exercise stores
// without depending on package copy.
func CopyGraph(ctx context.Context, src store.Reader, root ocispec.Descriptor, dst store.Writer) error {
	var once sync.Map // digest -> struct{}: each blob once, as the engine does
	return copyNode(ctx, src, root, dst, &once)
}

func copyNode(ctx context.Context, src store.Reader, desc ocispec.Descriptor, dst store.Writer, once *sync.Map) error {
	if ok, err := dst.Exists(ctx, desc); err != nil || ok {
		return err
	}
	rc, err := src.Fetch(ctx, desc)
	if err != nil {
		return err
	}
	raw, err := content.ReadCapped(rc, 0, "manifest "+desc.Digest.String())
	rc.Close()
	if err != nil {
		return err
	}
	m, err := content.Decode(desc.MediaType, raw)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, ch := range content.Children(m) {
		switch {
		case ch.Role == content.RoleSubject:
		case ch.Role == content.RoleManifest:
			g.Go(func() error { return copyNode(gctx, src, ch.Descriptor, dst, once) })
		default:
			if _, dup := once.LoadOrStore(ch.Descriptor.Digest, struct{}{}); dup {
				continue
			}
			g.Go(func() error { return copyBlob(gctx, src, ch.Descriptor, dst) })
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return dst.Push(ctx, desc, bytes.NewReader(raw))
}

func copyBlob(ctx context.Context, src store.Reader, desc ocispec.Descriptor, dst store.Writer) error {
	if ok, err := dst.Exists(ctx, desc); err != nil || ok {
		return err
	}
	rc, err := src.Fetch(ctx, desc)
	if err != nil {
		return err
	}
	defer rc.Close()
	return dst.Push(ctx, desc, rc)
}

// tarOneFile returns an uncompressed tar stream holding one regular file.
func TarOneFile(t fataler, name string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Gzip returns b gzip-compressed; a write error fails t.
func Gzip(t fataler, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pseudoRandom returns n bytes determined by seed; incompressible, so a
// gzip'd layer is about as big as its file.
func pseudoRandom(seed string, n int) []byte {
	s := digest.FromString(seed).Encoded()
	var k [32]byte
	copy(k[:], s)
	r := rand.New(rand.NewChaCha8(k))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// ReadBlob fetches d from r and reads it whole, verified, failing the
// test on an error.
func ReadBlob(t testing.TB, r store.Reader, d ocispec.Descriptor) []byte {
	t.Helper()
	rc, err := r.Fetch(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("fetch %s: %v", d.Digest, err)
	}
	return b
}
