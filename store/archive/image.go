package archive

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/blobio"
)

// embedded is an image manifest of the OCI layout inside an archive.
type embedded struct {
	desc ocispec.Descriptor
	raw  []byte
	m    *ocispec.Manifest
}

// embeddedManifests returns the image manifests the archive's own OCI
// layout (index.json, blobs/) leads to, verified against their digests.
// Anything unreadable is left out: the images are then synthesised.
func (r *Reader) embeddedManifests() []embedded {
	if _, ok := r.files[ociLayoutFile]; !ok {
		return nil
	}
	raw, err := r.readMember(ociIndexFile, maxIndexJSON)
	if err != nil {
		return nil
	}
	var ix ocispec.Index
	if json.Unmarshal(raw, &ix) != nil {
		return nil
	}
	var out []embedded
	seen := map[digest.Digest]bool{} // each manifest is read once, however often it is listed
	var walk func(ds []ocispec.Descriptor, depth int)
	walk = func(ds []ocispec.Descriptor, depth int) {
		for _, d := range ds {
			k := content.KindOf(d.MediaType)
			if (k != content.KindImage && k != content.KindIndex) || d.Digest.Validate() != nil || seen[d.Digest] {
				continue
			}
			seen[d.Digest] = true
			mem, ok := r.files[blobName(d.Digest)]
			if !ok {
				continue
			}
			raw, err := readSection(r, mem, content.DefaultMaxManifestSize)
			if err != nil {
				continue
			}
			m, err := content.Decode(d.MediaType, raw)
			if err != nil || m.Verify(d.Digest) != nil {
				continue
			}
			switch {
			case m.Image != nil:
				desc := m.Descriptor
				desc.Digest = d.Digest
				out = append(out, embedded{desc: desc, raw: raw, m: m.Image})
			case m.Index != nil && depth < 4:
				walk(m.Index.Manifests, depth+1)
			}
		}
	}
	walk(ix.Manifests, 0)
	return out
}

func readSection(r *Reader, m member, limit int64) ([]byte, error) {
	return content.ReadCapped(io.NewSectionReader(r.f, m.off, m.size), limit, r.path)
}

// loadImage reads one manifest.json entry: its config, its layer files,
// and the manifest that presents them.
func (r *Reader) loadImage(ctx context.Context, it manifestItem, embeddedList []embedded) (*image, error) {
	for _, name := range append([]string{it.Config}, it.Layers...) {
		if why := outside(name); why != "" {
			return nil, fmt.Errorf("it names the file %q, which %s; refusing an archive that names files outside itself", name, why)
		}
	}
	cfgName := cleanName(it.Config)
	cfgMember, ok := r.files[cfgName]
	if !ok {
		return nil, fmt.Errorf("its config %s is not in the archive", it.Config)
	}
	cfg, err := r.config(cfgMember)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", it.Config, err)
	}
	cfgRaw := cfg.raw
	if len(cfg.RootFS.DiffIDs) != len(it.Layers) {
		return nil, fmt.Errorf("its config lists %d layers (rootfs.diff_ids) but the entry %d", len(cfg.RootFS.DiffIDs), len(it.Layers))
	}
	layers := make([]member, len(it.Layers))
	for i, name := range it.Layers {
		m, ok := r.files[cleanName(name)]
		if !ok {
			return nil, fmt.Errorf("its layer %s is not in the archive", name)
		}
		layers[i] = m
	}
	cfgDesc := content.NewDescriptor(content.MediaTypeDockerConfig, cfgRaw)
	img := &image{Image: Image{RepoTags: it.RepoTags}}

	for _, e := range embeddedList {
		if r.matches(e, cfgDesc, cfgMember, layers) {
			r.blobs[cfgDesc.Digest] = cfgMember
			for i, l := range e.m.Layers {
				r.blobs[l.Digest] = layers[i]
			}
			img.Descriptor, img.raw = e.desc, e.raw
			return img, nil
		}
	}

	man := schema2Manifest{SchemaVersion: 2, MediaType: content.MediaTypeDockerManifest,
		Config: schema2Descriptor{MediaType: cfgDesc.MediaType, Size: cfgDesc.Size, Digest: cfgDesc.Digest},
		Layers: []schema2Descriptor{}}
	r.blobs[cfgDesc.Digest] = cfgMember
	for i, m := range layers {
		c := sniff(io.NewSectionReader(r.f, m.off, m.size))
		d, ok := digestOfBlobName(cleanName(it.Layers[i]))
		switch {
		case ok:
		case c == uncompressed:
			d = cfg.RootFS.DiffIDs[i] // what the file hashes to: Fetch checks it
		default:
			if d, err = r.hash(ctx, m); err != nil {
				return nil, fmt.Errorf("layer %s: %w", it.Layers[i], err)
			}
		}
		if err := d.Validate(); err != nil {
			return nil, fmt.Errorf("layer %s: %w", it.Layers[i], err)
		}
		man.Layers = append(man.Layers, schema2Descriptor{MediaType: c.layerMediaType(), Size: m.size, Digest: d})
		r.blobs[d] = m
	}
	raw, err := json.Marshal(man)
	if err != nil {
		return nil, err
	}
	img.Descriptor, img.raw = content.NewDescriptor(content.MediaTypeDockerManifest, raw), raw
	return img, nil
}

// matches reports whether the embedded manifest e describes exactly the
// config and layer files of a manifest.json entry.
func (r *Reader) matches(e embedded, cfg ocispec.Descriptor, cfgMember member, layers []member) bool {
	if e.m.Config.Digest != cfg.Digest || e.m.Config.Size != cfg.Size || len(e.m.Layers) != len(layers) {
		return false
	}
	if m, ok := r.files[blobName(cfg.Digest)]; !ok || m != cfgMember {
		return false
	}
	for i, l := range e.m.Layers {
		if l.Digest.Validate() != nil {
			return false
		}
		if m, ok := r.files[blobName(l.Digest)]; !ok || m != layers[i] || m.size != l.Size {
			return false
		}
	}
	return true
}

// imageConfig is what Open needs of a config file, and its bytes.
type imageConfig struct {
	raw    []byte
	RootFS struct {
		DiffIDs []digest.Digest `json:"diff_ids"`
	} `json:"rootfs"`
}

// config reads and parses the config file m, once however many
// manifest.json entries share it.
func (r *Reader) config(m member) (*imageConfig, error) {
	if c, ok := r.configs[m]; ok {
		return c, nil
	}
	raw, err := readSection(r, m, maxConfig)
	if err != nil {
		return nil, err
	}
	c := &imageConfig{raw: raw}
	if err := json.Unmarshal(raw, c); err != nil {
		return nil, fmt.Errorf("not an image config: %v", err)
	}
	r.configs[m] = c
	return c, nil
}

// hash computes the sha256 digest of a member, once however many
// manifest.json entries name it: a hostile manifest.json can name one
// large layer a hundred thousand times.
func (r *Reader) hash(ctx context.Context, m member) (digest.Digest, error) {
	if d, ok := r.hashes[m]; ok {
		return d, nil
	}
	dg := digest.Canonical.Digester()
	_, err := io.Copy(dg.Hash(), blobio.ContextReader(ctx, io.NewSectionReader(r.f, m.off, m.size)))
	if err != nil {
		return "", err
	}
	r.hashes[m] = dg.Digest()
	return dg.Digest(), nil
}
