package legacy

import (
	"context"
	"errors"
	"fmt"
	"net/url"
)

// PushResult says what a Push did on each registry the index named.
type PushResult struct {
	// Registries has one entry per registry endpoint, in the index's
	// order.
	Registries []RegistryPush
}

// Used returns the endpoints that received the whole image and its tag.
func (r *PushResult) Used() []*url.URL {
	var eps []*url.URL
	for _, rp := range r.Registries {
		if rp.Err == nil {
			eps = append(eps, rp.Endpoint)
		}
	}
	return eps
}

// RegistryPush is what happened on one registry endpoint during a push.
type RegistryPush struct {
	// Endpoint is the registry's URL.
	Endpoint *url.URL
	// Uploaded lists the images sent (JSON, layer and checksums), base
	// first.
	Uploaded []string
	// Skipped lists the images the registry already had.
	Skipped []string
	// Err is nil when the image chain and the tag landed on this registry.
	Err error
}

// Push sends chain to name:tag (an empty tag means "latest"), as the
// original client did:
//
//  1. announce every image of the chain to the index (PUT
//     repositories/NAME/, following redirects), which answers with a write
//     token and the registry endpoints;
//  2. on each endpoint in turn, parents first, PUT each image's JSON
//     (skipping images the registry already has), its layer (streamed
//     once, chunked, its TarSum and payload checksum computed on the way)
//     and its checksums; then PUT the tag;
//  3. close the push on the index with the checksums and the endpoints
//     that received everything (PUT repositories/NAME/images, 204).
//
// An endpoint that fails is recorded in the result and the next one is
// tried; Push fails when no endpoint received the image, or when the index
// refuses the announcement or the close. Each endpoint reads the chain's
// layers anew.
func (c *Client) Push(ctx context.Context, name, tag string, chain Chain) (*PushResult, error) {
	if tag == "" {
		tag = "latest"
	}
	remote, err := remoteTag(name, tag)
	if err != nil {
		return nil, err
	}
	ids := chain.IDs()
	if len(ids) == 0 {
		return nil, fmt.Errorf("push of %s:%s: the image chain is empty", remote, tag)
	}
	for _, id := range ids {
		if err := validID(id); err != nil {
			return nil, fmt.Errorf("push of %s:%s: %w", remote, tag, err)
		}
	}
	top := ids[len(ids)-1]
	announce := make([]ImageEntry, len(ids))
	for i, id := range ids {
		announce[i] = ImageEntry{ID: id}
	}
	announce[len(ids)-1].Tag = tag

	rd, err := c.Announce(ctx, remote, announce)
	if err != nil {
		return nil, err
	}
	s, err := c.NewSession(ctx, rd)
	if err != nil {
		return nil, err
	}

	res := &PushResult{}
	checksums := map[string]string{}
	var errs []error
	for _, ep := range s.Endpoints() {
		rp := RegistryPush{Endpoint: ep}
		rp.Err = s.pushTo(ctx, ep, chain, checksums, &rp)
		if rp.Err == nil {
			rp.Err = s.PutTag(ctx, ep, remote, tag, top)
		}
		if rp.Err != nil {
			errs = append(errs, fmt.Errorf("registry %s: %w", ep.Host, rp.Err))
		}
		res.Registries = append(res.Registries, rp)
		if ctx.Err() != nil {
			break
		}
	}
	used := res.Used()
	if len(used) == 0 {
		return res, fmt.Errorf("push of %s:%s: %w", remote, tag, errors.Join(errs...))
	}
	closing := make([]ImageEntry, len(ids))
	for i, id := range ids {
		closing[i] = ImageEntry{ID: id, Checksum: checksums[id]}
	}
	if err := c.ClosePush(ctx, remote, closing, used); err != nil {
		return res, err
	}
	return res, nil
}

// pushTo sends every image of chain, parents first, to the endpoint ep,
// recording what it did in rp and the TarSum of each uploaded image in
// checksums.
func (s *Session) pushTo(ctx context.Context, ep *url.URL, chain Chain, checksums map[string]string, rp *RegistryPush) error {
	for _, id := range chain.IDs() {
		imgJSON, err := chain.JSON(ctx, id)
		if err != nil {
			return err
		}
		err = s.PutImageJSON(ctx, ep, id, imgJSON)
		if errors.Is(err, ErrImageExists) {
			rp.Skipped = append(rp.Skipped, id)
			continue
		}
		if err != nil {
			return err
		}
		layer, err := chain.Layer(ctx, id)
		if err != nil {
			return err
		}
		sums, err := s.PutLayer(ctx, ep, id, imgJSON, layer)
		layer.Close()
		if err != nil {
			return err
		}
		if err := s.PutChecksum(ctx, ep, id, sums); err != nil {
			return err
		}
		checksums[id] = sums.TarSum
		rp.Uploaded = append(rp.Uploaded, id)
	}
	return nil
}
