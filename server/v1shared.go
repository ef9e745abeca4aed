package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
)

// V1Blobs is a store of content-addressed blobs that a V1 server serves
// layers from: the v2 storage it shares a driver with. hoist serve passes
// its storage.
type V1Blobs interface {
	// OpenBlob returns blob d from offset on; an error matching
	// fs.ErrNotExist or errdef.ErrNotFound when it is not stored.
	OpenBlob(ctx context.Context, d digest.Digest, offset int64) (io.ReadCloser, error)
}

// V1Tags keeps a V1 server's tags in a v2 registry on the same store, so
// that one tag is one tag whichever protocol set it. hoist serve
// implements it by converting between v1 image chains and OCI images.
type V1Tags interface {
	// Tags returns repository name's ("namespace/repo") tags as v1 image
	// IDs. Every image they name must be complete on the V1 server by the
	// time Tags returns (an image pushed over v2 is added with
	// PutConverted). ok is false when the v2 side has no such repository.
	Tags(ctx context.Context, name string) (tags map[string]string, ok bool, err error)
	// SetTag makes tag of repository name point at the complete v1 image
	// id, whose chain the implementation reads with V1.Chain.
	SetTag(ctx context.Context, name, tag, id string) error
	// Names lists the v2 side's repositories, for v1 search.
	Names(ctx context.Context) ([]string, error)
}

// WithV1Blobs sets where layers of converted images (PutConverted) are
// read from.
func WithV1Blobs(b V1Blobs) V1Option { return func(c *v1Config) { c.blobs = b } }

// WithV1Tags keeps tags in t instead of the V1 server's own files.
func WithV1Tags(t V1Tags) V1Option { return func(c *v1Config) { c.tags = t } }

// V1Chain is a complete image and its parents on a V1 server, base first.
// It has the methods of legacy.Chain, so it converts with legacy.ToOCI.
type V1Chain struct {
	s   *V1
	ids []string
}

// Chain returns the chain of the complete image id. An image that is not
// complete is an error matching fs.ErrNotExist.
func (s *V1) Chain(ctx context.Context, id string) (*V1Chain, error) {
	if !s.store.imageComplete(ctx, id) {
		return nil, fmt.Errorf("v1 image %s: %w", id, fs.ErrNotExist)
	}
	anc, err := s.store.ancestry(ctx, id)
	if err != nil {
		return nil, err
	}
	ids := slices.Clone(anc)
	slices.Reverse(ids)
	return &V1Chain{s: s, ids: ids}, nil
}

// IDs returns the image IDs, base first.
func (c *V1Chain) IDs() []string { return c.ids }

// JSON returns the image JSON of id, byte for byte as pushed.
func (c *V1Chain) JSON(ctx context.Context, id string) ([]byte, error) {
	return c.s.store.readFile(ctx, imagePath(id, "json"))
}

// Layer opens the layer of id.
func (c *V1Chain) Layer(ctx context.Context, id string) (io.ReadCloser, error) {
	sums, err := c.s.store.imageChecksums(ctx, id)
	if err != nil {
		return nil, err
	}
	if sums.Blob != "" {
		if c.s.cfg.blobs == nil {
			return nil, errors.New("v1 server: a converted image's layer, and no WithV1Blobs")
		}
		return c.s.cfg.blobs.OpenBlob(ctx, digest.Digest(sums.Blob), 0)
	}
	return c.s.store.openLayer(ctx, id, 0)
}

// V1Converted is one image of a chain converted from an OCI image, for
// PutConverted.
type V1Converted struct {
	ID   string
	JSON []byte
	// Layer is the v2 blob that is this image's layer, byte for byte, and
	// Size its size. A layer that is no blob of the v2 store (the empty tar
	// of an empty_layer history entry) is given as Data instead, and
	// stored with the image.
	Layer digest.Digest
	Size  int64
	Data  []byte
}

// PutConverted makes a chain converted from an OCI image (base first)
// complete images of the V1 server, their layers read from WithV1Blobs,
// and lists them in repository name's image list. Images already complete
// are kept as they are: IDs name content, so they are the same images.
func (s *V1) PutConverted(ctx context.Context, name string, chain []V1Converted) error {
	n, err := parseV1Name(splitName(name))
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var ancestry []string
	var listed []repoImage
	for _, img := range chain {
		ancestry = append([]string{img.ID}, ancestry...)
		listed = append(listed, repoImage{ID: img.ID})
		if err := validImageID(img.ID); err != nil {
			return err
		}
		if s.store.imageComplete(ctx, img.ID) {
			continue
		}
		if !json.Valid(img.JSON) {
			return fmt.Errorf("v1 server: converted image %s has no valid JSON", img.ID)
		}
		sums := imageSums{Size: img.Size, Blob: img.Layer.String()}
		if img.Layer == "" {
			sums.Size = int64(len(img.Data))
			if err := s.store.writeFile(ctx, imagePath(img.ID, "layer"), img.Data); err != nil {
				return err
			}
		}
		if err := s.store.putConverted(ctx, img.ID, img.JSON, ancestry, sums); err != nil {
			return err
		}
	}
	return s.store.addRepoImages(ctx, n, listed)
}

// splitName splits a repository name for parseV1Name.
func splitName(name string) []string { return strings.Split(name, "/") }

// LayerIsBlob lets the v2 blob b stand for image id's own layer file, when
// b is that layer byte for byte (its digest is the sha256 the upload
// computed), and removes the file: a v1 push converted to OCI then keeps
// its layers once. It does nothing for an image whose layer is another
// blob, or already one.
func (s *V1) LayerIsBlob(ctx context.Context, id string, b digest.Digest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sums, err := s.store.imageChecksums(ctx, id)
	if err != nil {
		return err
	}
	if sums.Blob != "" || sums.Digest == "" || sums.Digest != b.String() || s.cfg.blobs == nil {
		return nil
	}
	rc, err := s.cfg.blobs.OpenBlob(ctx, b, 0)
	if err != nil {
		return nil // not (yet) a blob: keep the file
	}
	rc.Close()
	sums.Blob = b.String()
	if err := s.store.writeJSON(ctx, imagePath(id, "checksums"), sums); err != nil {
		return err
	}
	return s.store.remove(ctx, imagePath(id, "layer"))
}
