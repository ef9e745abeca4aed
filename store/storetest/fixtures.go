package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
)

// blob is content with its descriptor.
type blob struct {
	desc ocispec.Descriptor
	data []byte
}

func newBlob(mediaType string, data []byte) blob {
	return blob{content.NewDescriptor(mediaType, data), data}
}

// randomBytes returns n bytes that depend only on seed.
func randomBytes(seed string, n int) []byte {
	var s [32]byte
	copy(s[:], seed)
	r := rand.NewChaCha8(s)
	b := make([]byte, n)
	r.Read(b)
	return b
}

// image is an image manifest with its config and layers.
type image struct {
	manifest blob
	config   blob
	layers   []blob
}

// blobs are the image's config and layers, the children of its manifest.
func (img image) blobs() []blob { return append([]blob{img.config}, img.layers...) }

// newImage builds an OCI image of seed, with layers of the given sizes.
func newImage(seed string, sizes ...int) image {
	var layers []blob
	for i, n := range sizes {
		layers = append(layers, newBlob(content.MediaTypeOCILayerGzip, randomBytes(fmt.Sprintf("%s layer %d", seed, i), n)))
	}
	return imageOf(seed, layers)
}

// imageOf builds an OCI image of seed with the given layers.
func imageOf(seed string, layers []blob) image {
	img := image{layers: layers}
	var diffIDs []string
	for _, l := range layers {
		diffIDs = append(diffIDs, l.desc.Digest.String())
	}
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"config": map[string]any{"Labels": map[string]string{"storetest": seed}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	img.config = newBlob(content.MediaTypeOCIConfig, cfg)
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: content.MediaTypeOCIManifest, Config: img.config.desc}
	for _, l := range img.layers {
		m.Layers = append(m.Layers, l.desc)
	}
	raw, _ := json.Marshal(m)
	img.manifest = newBlob(content.MediaTypeOCIManifest, raw)
	return img
}

// newIndex builds an index of imgs.
func newIndex(imgs ...image) blob {
	ix := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: content.MediaTypeOCIIndex}
	for i, img := range imgs {
		d := img.manifest.desc
		d.Platform = &ocispec.Platform{OS: "linux", Architecture: []string{"amd64", "arm64", "s390x"}[i%3]}
		ix.Manifests = append(ix.Manifests, d)
	}
	raw, _ := json.Marshal(ix)
	return newBlob(content.MediaTypeOCIIndex, raw)
}

// newArtifact builds a manifest of artifactType whose subject is subject.
func newArtifact(seed, artifactType string, subject ocispec.Descriptor) image {
	img := image{config: newBlob(ocispec.MediaTypeEmptyJSON, []byte("{}"))}
	l := newBlob("application/vnd.example.storetest", []byte("artifact "+seed))
	img.layers = []blob{l}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: content.MediaTypeOCIManifest,
		ArtifactType: artifactType, Config: img.config.desc, Layers: []ocispec.Descriptor{l.desc},
		Subject: &subject, Annotations: map[string]string{"storetest": seed},
	}
	raw, _ := json.Marshal(m)
	img.manifest = newBlob(content.MediaTypeOCIManifest, raw)
	return img
}

// flip returns b with one byte changed.
func flip(b []byte) []byte {
	c := bytes.Clone(b)
	c[len(c)/2] ^= 0xff
	return c
}
