package mirror

import (
	"bytes"
	"context"
	"fmt"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/store"
)

// readOnly is the error of every write to a mirror.
func (r *Repository) readOnly(what string) error {
	return fmt.Errorf("%w: %s %s: this registry is a pull-through mirror of %s; push to %s instead",
		errdef.ErrReadOnly, what, r.name, r.m.cfg.name, r.m.cfg.name)
}

// Push is refused: a mirror takes content only from its upstream.
func (r *Repository) Push(ctx context.Context, desc ocispec.Descriptor, rd io.Reader) error {
	return r.readOnly("push to")
}

// PushTagged is refused.
func (r *Repository) PushTagged(ctx context.Context, desc ocispec.Descriptor, rd io.Reader, tag string) error {
	return r.readOnly("push to")
}

// Tag is refused.
func (r *Repository) Tag(ctx context.Context, desc ocispec.Descriptor, tag string) error {
	return r.readOnly("tagging in")
}

// Ingest is refused: no uploads to a mirror.
func (r *Repository) Ingest(ctx context.Context, ref string, opts store.IngestOptions) (store.Ingest, error) {
	return nil, r.readOnly("upload to")
}

// Delete is refused.
func (r *Repository) Delete(ctx context.Context, desc ocispec.Descriptor) error {
	return r.readOnly("delete in")
}

// Untag is refused.
func (r *Repository) Untag(ctx context.Context, tag string) error {
	return r.readOnly("untag in")
}

// Mount is refused.
func (r *Repository) Mount(ctx context.Context, desc ocispec.Descriptor, from string) (bool, error) {
	return false, r.readOnly("mount into")
}

// Registry returns the mirror's registry name for mounts (which it
// refuses).
func (r *Repository) Registry() string { return r.local.Registry() }

// Repository returns the repository's name.
func (r *Repository) Repository() string { return r.name }

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
