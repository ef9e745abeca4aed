package legacy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/hoist-dev/hoist/content"
)

// Defaults for what a v1 image JSON may leave out and an OCI config must
// say: v1 was amd64 Linux only until late in its life.
const (
	defaultArchitecture = "amd64"
	defaultOS           = "linux"
)

// OCIImage is the OCI image ToOCI built. Its layers and config are in the
// BlobSink already; the manifest is here for the caller to store (and
// tag) now that its blobs are in place.
type OCIImage struct {
	// Manifest is the image manifest (application/vnd.oci.image.manifest.v1+json)
	// byte for byte, and ManifestDescriptor its descriptor.
	Manifest           []byte
	ManifestDescriptor ocispec.Descriptor
	// Config is the image config byte for byte, and ConfigDescriptor its
	// descriptor (as in the manifest).
	Config           []byte
	ConfigDescriptor ocispec.Descriptor
	// Layers are the layer descriptors (as in the manifest) and DiffIDs
	// the sha256 of each uncompressed layer (as in the config), base first.
	Layers  []ocispec.Descriptor
	DiffIDs []digest.Digest
	// EmptyV1Images lists the v1 images whose layer was empty: they are
	// history entries marked empty_layer, with no layer of their own.
	EmptyV1Images []string
}

// ToOCI converts a v1 image chain into an OCI image, streaming each layer
// from the chain through sink (at most WithConcurrency at once) and then
// writing the config to sink.
//
//   - Layers: a gzip-compressed v1 layer is stored byte for byte; an
//     uncompressed one (or bzip2, which OCI has no type for) is gzipped on
//     the way. Every layer gets the media type
//     application/vnd.oci.image.layer.v1.tar+gzip, and its diff_id is the
//     sha256 of the uncompressed tar, computed in the same pass. xz and
//     zstd v1 layers are refused (ErrUnsupportedLayer).
//   - Empty layers: a v1 image whose layer is a tar with no entries (or no
//     bytes at all) adds no layer; its history entry is marked
//     empty_layer. That is docker's rule; the JSON's "Size" is not used,
//     since v1 registries filled it in unreliably. (A layer that does not
//     end within its first 64 KiB counts as not empty.) A JSON that says
//     "throwaway": false, as FromOCI writes for every image with a real
//     layer, keeps its layer even when the tar is empty, so that an OCI
//     image with an empty-tar layer survives a trip through v1.
//   - Config: architecture and os from the tagged (last) image's JSON,
//     amd64 and linux when it has none; "config" from its "config" (User,
//     ExposedPorts, Env, Entrypoint, Cmd, Volumes, WorkingDir, Labels,
//     StopSignal); created and author from it; one history entry per v1
//     image, base first, with created, author, comment and created_by
//     (container_config.Cmd joined with spaces); rootfs.diff_ids.
//
// The chain must be consistent: each image's JSON names it as "id" and
// the previous image as "parent". ToOCI returns the first error of any
// layer; blobs already in the sink stay there (content-addressed, they
// do no harm).
func ToOCI(ctx context.Context, chain Chain, sink BlobSink, opts ...Option) (*OCIImage, error) {
	o := defaults()
	for _, f := range opts {
		f(&o)
	}
	ids := chain.IDs()
	if len(ids) == 0 {
		return nil, fmt.Errorf("converting to OCI: the v1 image chain is empty")
	}
	metas := make([]v1Meta, len(ids))
	layers := make([]convertedLayer, len(ids))

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.concurrency)
	for i, id := range ids {
		g.Go(func() error {
			b, err := chain.JSON(gctx, id)
			if err != nil {
				return err
			}
			if err := json.Unmarshal(b, &metas[i]); err != nil {
				return fmt.Errorf("the JSON of v1 image %s is not valid: %w", id, err)
			}
			want := ""
			if i > 0 {
				want = ids[i-1]
			}
			if m := metas[i]; m.ID != id || m.Parent != want {
				return fmt.Errorf("v1 image %s: its JSON says id %q and parent %q, the chain says id %q and parent %q", id, m.ID, m.Parent, id, want)
			}
			rc, err := chain.Layer(gctx, id)
			if err != nil {
				return err
			}
			defer rc.Close()
			keep := metas[i].ThrowAway != nil && !*metas[i].ThrowAway
			layers[i], err = convertLayer(gctx, rc, sink, !keep, "layer of v1 image "+id)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("converting to OCI: %w", err)
	}

	img := &OCIImage{Layers: []ocispec.Descriptor{}, DiffIDs: []digest.Digest{}}
	var history []ocispec.History
	for i, m := range metas {
		l := layers[i]
		history = append(history, ocispec.History{
			Created:    m.created(),
			CreatedBy:  m.createdBy(),
			Author:     m.Author,
			Comment:    m.Comment,
			EmptyLayer: l.empty,
		})
		if l.empty {
			img.EmptyV1Images = append(img.EmptyV1Images, ids[i])
			continue
		}
		img.Layers = append(img.Layers, l.desc)
		img.DiffIDs = append(img.DiffIDs, l.diffID)
	}
	top := metas[len(metas)-1]
	cfg := ocispec.Image{
		Created: top.created(),
		Author:  top.Author,
		Platform: ocispec.Platform{
			Architecture: top.Architecture,
			OS:           top.OS,
			Variant:      top.Variant,
		},
		Config:  imageConfig(top.Config),
		RootFS:  ocispec.RootFS{Type: "layers", DiffIDs: img.DiffIDs},
		History: history,
	}
	if cfg.Architecture == "" {
		cfg.Architecture = defaultArchitecture
	}
	if cfg.OS == "" {
		cfg.OS = defaultOS
	}
	var err error
	if img.Config, err = json.Marshal(cfg); err != nil {
		return nil, err
	}
	img.ConfigDescriptor = content.NewDescriptor(ocispec.MediaTypeImageConfig, img.Config)
	got, err := sink.PutBlob(ctx, ocispec.MediaTypeImageConfig, bytes.NewReader(img.Config))
	if err != nil {
		return nil, fmt.Errorf("converting to OCI: storing the config: %w", err)
	}
	if got.Digest != img.ConfigDescriptor.Digest || got.Size != img.ConfigDescriptor.Size {
		return nil, fmt.Errorf("converting to OCI: the blob sink stored the config as %s (%d bytes), want %s (%d bytes)",
			got.Digest, got.Size, img.ConfigDescriptor.Digest, img.ConfigDescriptor.Size)
	}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    img.ConfigDescriptor,
		Layers:    img.Layers,
	}
	if img.Manifest, err = json.Marshal(m); err != nil {
		return nil, err
	}
	img.ManifestDescriptor = content.NewDescriptor(ocispec.MediaTypeImageManifest, img.Manifest)
	return img, nil
}
