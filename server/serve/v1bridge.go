package serve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/legacy"
	"github.com/hoist-dev/hoist/server"
	"github.com/hoist-dev/hoist/server/storage"
	"github.com/hoist-dev/hoist/store"
)

// v1Bridge puts the v1 API on the v2 store: tags live in the v2 store
// only; an image pushed over v1 is converted to OCI (legacy.ToOCI) when it
// is tagged, and one pushed over v2 is converted to a v1 chain
// (legacy.FromOCI) when a v1 client lists its repository. Either way an
// origin record, /hoist/v1/origin/ALG/HEX, maps the manifest to the top
// v1 image ID, so an image pushed over v1 comes back over v1 with its own
// JSONs and IDs, and a converted one keeps the IDs it got.
type v1Bridge struct {
	ns     *storage.Namespace
	v1     *server.V1
	logger *slog.Logger
}

var (
	_ server.V1Tags  = (*v1Bridge)(nil)
	_ server.V1Blobs = (*v1Bridge)(nil)
)

func originPath(d digest.Digest) string {
	return path.Join("/hoist/v1/origin", string(d.Algorithm()), d.Encoded())
}

// Names lists the v2 repositories, for v1 search.
func (b *v1Bridge) Names(ctx context.Context) ([]string, error) {
	return b.ns.Repositories(ctx, store.Page{})
}

// OpenBlob reads a v2 blob for a v1 layer.
func (b *v1Bridge) OpenBlob(ctx context.Context, d digest.Digest, offset int64) (io.ReadCloser, error) {
	return b.ns.OpenBlob(ctx, d, offset)
}

// Tags lists repository name's tags as v1 image IDs, converting images
// no v1 client has seen yet. A tag whose image v1 cannot carry (no
// linux/amd64 image in an index, zstd layers) is left out and logged.
func (b *v1Bridge) Tags(ctx context.Context, name string) (map[string]string, bool, error) {
	repo, err := b.ns.Repository(ctx, name)
	if err != nil {
		return nil, false, nil
	}
	tags, err := repo.Tags(ctx, store.Page{})
	if errors.Is(err, errdef.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := map[string]string{}
	for _, t := range tags {
		desc, err := repo.Resolve(ctx, t)
		if err != nil {
			continue // untagged meanwhile
		}
		id, err := b.v1ID(ctx, name, repo, desc)
		if err != nil {
			b.logger.Info("v1: a tag v1 clients cannot pull", "repository", name, "tag", t, "err", err)
			continue
		}
		out[t] = id
	}
	return out, true, nil
}

// v1ID returns the top v1 image ID of the manifest desc (an index is
// served by its linux/amd64 image), converting it if need be.
func (b *v1Bridge) v1ID(ctx context.Context, name string, repo store.Repository, desc ocispec.Descriptor) (string, error) {
	if content.KindOf(desc.MediaType) == content.KindIndex {
		m, err := b.manifest(ctx, repo, desc)
		if err != nil {
			return "", err
		}
		d, ok := content.SelectPlatform(m.Index, ocispec.Platform{OS: "linux", Architecture: "amd64"})
		if !ok {
			return "", errors.New("the index has no linux/amd64 image, the only kind v1 carries")
		}
		desc = d
	}
	if id, err := b.ns.Driver().GetContent(ctx, originPath(desc.Digest)); err == nil {
		return string(id), nil
	}
	m, err := b.manifest(ctx, repo, desc)
	if err != nil {
		return "", err
	}
	chain, err := legacy.FromOCI(ctx, repo, m.Raw)
	if err != nil {
		return "", err
	}
	var conv []server.V1Converted
	for _, id := range chain.IDs() {
		js, err := chain.JSON(ctx, id)
		if err != nil {
			return "", err
		}
		c := server.V1Converted{ID: id, JSON: js}
		if l, ok := chain.LayerDescriptor(id); ok {
			c.Layer, c.Size = l.Digest, l.Size
		} else {
			rc, err := chain.Layer(ctx, id)
			if err != nil {
				return "", err
			}
			c.Data, err = content.ReadCapped(rc, 1<<20, "empty layer")
			rc.Close()
			if err != nil {
				return "", err
			}
		}
		conv = append(conv, c)
	}
	if err := b.v1.PutConverted(ctx, name, conv); err != nil {
		return "", err
	}
	top := chain.IDs()[len(chain.IDs())-1]
	if err := b.ns.Driver().PutContent(ctx, originPath(desc.Digest), []byte(top)); err != nil {
		return "", err
	}
	return top, nil
}

// manifest reads and decodes manifest desc of repo.
func (b *v1Bridge) manifest(ctx context.Context, repo store.Repository, desc ocispec.Descriptor) (*content.Manifest, error) {
	rc, err := repo.Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	m, err := content.ReadManifest(rc, desc.MediaType, 0)
	if err != nil {
		return nil, err
	}
	m.Descriptor.Digest = desc.Digest
	return m, nil
}

// SetTag converts the v1 chain of id to an OCI image in repository name
// and tags it there; the origin record keeps the v1 IDs for v1 pulls.
func (b *v1Bridge) SetTag(ctx context.Context, name, tag, id string) error {
	chain, err := b.v1.Chain(ctx, id)
	if err != nil {
		return err
	}
	repo, err := b.ns.Repository(ctx, name)
	if err != nil {
		return err
	}
	sink := legacy.BlobSinkFunc(func(ctx context.Context, mediaType string, r io.Reader) (ocispec.Descriptor, error) {
		return putBlob(ctx, repo, mediaType, r)
	})
	img, err := legacy.ToOCI(ctx, chain, sink)
	if err != nil {
		return fmt.Errorf("v1 push of %s:%s: %w", name, tag, err)
	}
	if err := repo.PushTagged(ctx, img.ManifestDescriptor, bytes.NewReader(img.Manifest), tag); err != nil {
		return fmt.Errorf("v1 push of %s:%s: storing the OCI image: %w", name, tag, err)
	}
	// Layers ToOCI stored byte for byte are kept once: as the v2 blob.
	empty := map[string]bool{}
	for _, e := range img.EmptyV1Images {
		empty[e] = true
	}
	j := 0
	for _, v1id := range chain.IDs() {
		if empty[v1id] || j >= len(img.Layers) {
			continue
		}
		if err := b.v1.LayerIsBlob(ctx, v1id, img.Layers[j].Digest); err != nil {
			return err
		}
		j++
	}
	return b.ns.Driver().PutContent(ctx, originPath(img.ManifestDescriptor.Digest), []byte(id))
}

// putBlob stores r in repo as a blob whose digest is learnt as it
// streams.
func putBlob(ctx context.Context, repo store.Repository, mediaType string, r io.Reader) (ocispec.Descriptor, error) {
	in, err := repo.Ingest(ctx, "", store.IngestOptions{})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer in.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(in, h), r)
	if err != nil {
		_ = in.Abort(ctx)
		return ocispec.Descriptor{}, err
	}
	d := digest.NewDigest(digest.SHA256, h)
	got, err := in.Commit(ctx, n, d)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: got.Digest, Size: got.Size}, nil
}
