package legacy

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
)

// Chain is a v1 image and its parents: what a pull yields, what a push
// sends, and what ToOCI converts. RemoteChain (from Pull) and OCIChain
// (from FromOCI) implement it; a caller can wrap one to count bytes for a
// progress display.
//
// Implementations are safe for concurrent use.
type Chain interface {
	// IDs returns the image IDs, the base image first and the tagged image
	// last. The caller must not modify the slice.
	IDs() []string
	// JSON returns the JSON of image id, byte for byte as the registry
	// keeps it. The caller must not modify it.
	JSON(ctx context.Context, id string) ([]byte, error)
	// Layer opens the layer of image id: a tar archive, plain or
	// compressed, as the registry keeps it. The caller closes it. A
	// reader that reached io.EOF without an error has delivered verified
	// bytes, as far as the source can verify them.
	Layer(ctx context.Context, id string) (io.ReadCloser, error)
}

// RemoteChain is an image chain on a v1 registry, as Pull found it. Only
// the tag and the ancestry are fetched up front; image JSONs are fetched
// (once) and layers streamed when asked for.
//
// A RemoteChain is safe for concurrent use.
type RemoteChain struct {
	name, tag string
	session   *Session
	repo      *RepositoryData
	ids       []string // base first

	mu     sync.Mutex
	images map[string]Image
}

// Pull finds name:tag on the v1 registry: it asks the index for the
// repository (tokens, endpoints, checksums), reads the tags from the
// registry, and the tagged image's ancestry. An empty tag means "latest".
// The images themselves are fetched by the returned chain, on demand.
//
// Like the original client, Pull reads all tags (GET repositories/NAME/tags)
// rather than the one tag, so that static registries that have only that
// file work. A tag the repository does not have is an error wrapping
// errcode.ErrNotFound.
func (c *Client) Pull(ctx context.Context, name, tag string) (*RemoteChain, error) {
	if tag == "" {
		tag = "latest"
	}
	remote, err := remoteTag(name, tag)
	if err != nil {
		return nil, err
	}
	rd, err := c.RepositoryData(ctx, remote)
	if err != nil {
		return nil, err
	}
	s, err := c.NewSession(ctx, rd)
	if err != nil {
		return nil, err
	}
	tags, err := s.Tags(ctx, remote)
	if err != nil {
		return nil, err
	}
	id, ok := tags[tag]
	if !ok {
		return nil, fmt.Errorf("%s has no tag %q: %w", remote, tag, errTagNotFound)
	}
	anc, err := s.Ancestry(ctx, id)
	if err != nil {
		return nil, err
	}
	slices.Reverse(anc)
	return &RemoteChain{name: remote, tag: tag, session: s, repo: rd, ids: anc, images: map[string]Image{}}, nil
}

// Name returns the repository, "namespace/repo".
func (r *RemoteChain) Name() string { return r.name }

// Tag returns the tag pulled.
func (r *RemoteChain) Tag() string { return r.tag }

// Session returns the registry session the chain reads through.
func (r *RemoteChain) Session() *Session { return r.session }

// IDs returns the image IDs, base first and the tagged image last.
func (r *RemoteChain) IDs() []string { return r.ids }

// Image returns image id's JSON and what the registry said about its
// layer, fetching it the first time.
func (r *RemoteChain) Image(ctx context.Context, id string) (Image, error) {
	if !slices.Contains(r.ids, id) {
		return Image{}, fmt.Errorf("image %s is not in the chain of %s:%s", id, r.name, r.tag)
	}
	r.mu.Lock()
	img, ok := r.images[id]
	r.mu.Unlock()
	if ok {
		return img, nil
	}
	img, err := r.session.ImageJSON(ctx, id)
	if err != nil {
		return Image{}, err
	}
	r.mu.Lock()
	r.images[id] = img
	r.mu.Unlock()
	return img, nil
}

// JSON returns image id's JSON byte for byte.
func (r *RemoteChain) JSON(ctx context.Context, id string) ([]byte, error) {
	img, err := r.Image(ctx, id)
	return img.JSON, err
}

// Layer streams image id's layer. It is checked as it is read against the
// checksum the registry sent with the image JSON or, failing that, the
// one in the index's image list (a payload checksum or a TarSum v0): a
// mismatch is an error from Read, wrapping errcode.ErrDigestMismatch.
// A layer for which no checksum is published (static registries publish
// none) cannot be checked. Broken downloads resume as Session.Layer says.
// The caller closes the reader.
func (r *RemoteChain) Layer(ctx context.Context, id string) (io.ReadCloser, error) {
	img, err := r.Image(ctx, id)
	if err != nil {
		return nil, err
	}
	rc, err := r.session.Layer(ctx, id, img.Size)
	if err != nil {
		return nil, err
	}
	what := "layer of image " + id
	if vr, ok := verifyLayer(rc, what, img.JSON, img.Checksum); ok {
		return vr, nil
	}
	vr, _ := verifyLayer(rc, what, img.JSON, r.repo.Checksum(id))
	return vr, nil
}
