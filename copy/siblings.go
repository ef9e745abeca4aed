package copy

import (
	"context"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/store"
)

// A blob that several copies of one Copier need in different
// repositories of the same registry (a sync of many repositories whose
// images share a base layer) is transferred into the first, and mounted
// from there into the others: the copies that come while it is on its
// way wait for it instead of fetching and uploading the same bytes again.
// A mount the registry refuses, or a first transfer that fails, leaves
// each to transfer the blob itself.

// siblingKey names a blob on its way into a registry.
type siblingKey struct {
	registry string
	d        digest.Digest
}

// siblingFlight is the first transfer of a blob into a registry.
type siblingFlight struct {
	repo    string // the repository it goes into
	done    chan struct{}
	err     error
	waiting int // copies waiting for it, under Copier.mu
}

// viaSibling makes desc present in dst as transfer does, mounting it from
// a sibling repository where another copy is already bringing it to the
// same registry. t is as for transfer; it is released while waiting.
func (c *Copier) viaSibling(ctx context.Context, src store.Reader, dst store.Writer, desc ocispec.Descriptor, st *stats, t *ticket) error {
	m, ok := dst.(store.Mounter)
	if !ok {
		return c.transfer(ctx, src, dst, desc, st, t)
	}
	key := siblingKey{m.Registry(), desc.Digest}
	c.mu.Lock()
	first, busy := c.siblings[key]
	if !busy || first.repo == m.Repository() {
		f := &siblingFlight{repo: m.Repository(), done: make(chan struct{})}
		if c.siblings == nil {
			c.siblings = map[siblingKey]*siblingFlight{}
		}
		if !busy {
			c.siblings[key] = f
		}
		c.mu.Unlock()
		err := c.transfer(ctx, src, dst, desc, st, t)
		if !busy {
			c.mu.Lock()
			delete(c.siblings, key)
			c.mu.Unlock()
			f.err = err
			close(f.done)
		}
		return err
	}
	first.waiting++
	c.mu.Unlock()
	if t != nil {
		t.release() // waiting for the sibling needs no slot
	}
	select {
	case <-first.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if first.err == nil {
		mounted, err := m.Mount(ctx, desc, first.repo)
		if err == nil && mounted {
			st.record(desc.Digest, BlobMounted)
			c.o.events(Event{Kind: BlobMounted, Descriptor: desc, From: first.repo})
			c.o.cache.Add(m.Registry(), m.Repository(), desc.Digest)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return c.transfer(ctx, src, dst, desc, st, nil)
}
