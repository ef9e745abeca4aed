package memory

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
)

// maxManifest caps a manifest Push holds.
const maxManifest = content.DefaultMaxManifestSize

// Push stores desc read from r: a manifest or index (by media type) once
// verified and once every child it names is in the repository, a blob
// through an ingest (store.PushIngest).
func (r *Repository) Push(ctx context.Context, desc ocispec.Descriptor, rd io.Reader) error {
	if err := content.ValidateDescriptor(desc); err != nil {
		return err
	}
	if content.KindOf(desc.MediaType) == content.KindUnknown {
		return store.PushIngest(ctx, r, desc, rd)
	}
	v, err := content.NewVerifier(rd, desc)
	if err != nil {
		return err
	}
	raw, err := content.ReadCapped(v, maxManifest, "manifest "+desc.Digest.String())
	if err != nil {
		return err
	}
	m, err := content.Decode(desc.MediaType, raw)
	if err != nil {
		return fmt.Errorf("%w: manifest %s: %v", errdef.ErrInvalid, desc.Digest, err)
	}
	r.ns.mu.Lock()
	defer r.ns.mu.Unlock()
	for _, ch := range content.Children(m) {
		d := ch.Descriptor
		if ch.Role == content.RoleSubject || len(d.URLs) > 0 || d.MediaType == content.MediaTypeDockerForeignLayer {
			continue
		}
		if _, _, ok := r.lookup(d.Digest); !ok {
			return fmt.Errorf("manifest %s: its %s %s is not in repository %s; push children before their manifest: %w", desc.Digest, ch.Role, d.Digest, r.name, store.ErrNotFound)
		}
	}
	st := r.ns.state(r.name, true)
	r.ns.blobs[desc.Digest] = raw
	st.links[desc.Digest] = m.Descriptor.MediaType
	if s := m.Subject(); s != nil {
		st.subject[desc.Digest] = s.Digest
	}
	return nil
}

// Tag makes tag name manifest desc, which must be in the repository.
func (r *Repository) Tag(ctx context.Context, desc ocispec.Descriptor, tag string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if tag == "" {
		return nil
	}
	if err := reference.ValidateTag(tag); err != nil {
		return fmt.Errorf("%w: %v", errdef.ErrInvalid, err)
	}
	r.ns.mu.Lock()
	defer r.ns.mu.Unlock()
	mt, _, ok := r.lookup(desc.Digest)
	if !ok || mt == "" {
		return fmt.Errorf("tag %s: %w", tag, r.notFound("manifest "+desc.Digest.String()))
	}
	r.ns.state(r.name, true).tags[tag] = desc.Digest
	return nil
}

// PushTagged stores manifest desc and tags it.
func (r *Repository) PushTagged(ctx context.Context, desc ocispec.Descriptor, rd io.Reader, tag string) error {
	if err := r.Push(ctx, desc, rd); err != nil {
		return err
	}
	return r.Tag(ctx, desc, tag)
}

// Untag removes tag, keeping the manifest.
func (r *Repository) Untag(ctx context.Context, tag string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.ns.mu.Lock()
	defer r.ns.mu.Unlock()
	st := r.ns.state(r.name, false)
	if st == nil || st.tags[tag] == "" {
		return r.notFound("tag " + tag)
	}
	delete(st.tags, tag)
	return nil
}

// Delete removes desc from the repository: a manifest (by media type)
// with every tag naming it, or a blob's link. The bytes stay while
// another repository links them.
func (r *Repository) Delete(ctx context.Context, desc ocispec.Descriptor) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.ns.mu.Lock()
	defer r.ns.mu.Unlock()
	mt, _, ok := r.lookup(desc.Digest)
	manifest := content.KindOf(desc.MediaType) != content.KindUnknown
	if !ok || manifest != (mt != "") {
		return r.notFound(desc.Digest.String())
	}
	st := r.ns.state(r.name, false)
	delete(st.links, desc.Digest)
	delete(st.subject, desc.Digest)
	for t, d := range st.tags {
		if d == desc.Digest {
			delete(st.tags, t)
		}
	}
	r.ns.dropUnlinked(desc.Digest)
	return nil
}

// dropUnlinked forgets d's bytes when no repository links them. ns.mu is
// held.
func (ns *Namespace) dropUnlinked(d digest.Digest) {
	for _, st := range ns.repos {
		if _, ok := st.links[d]; ok {
			return
		}
	}
	delete(ns.blobs, d)
}

// Mount links blob desc from repository from (any repository when from
// is ""), reporting false when from does not hold it.
func (r *Repository) Mount(ctx context.Context, desc ocispec.Descriptor, from string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	r.ns.mu.Lock()
	defer r.ns.mu.Unlock()
	held := false
	for name, st := range r.ns.repos {
		if _, ok := st.links[desc.Digest]; ok && (from == "" || name == from) {
			held = true
		}
	}
	if !held {
		return false, nil
	}
	r.ns.state(r.name, true).links[desc.Digest] = ""
	return true, nil
}

// commitBlob makes b the blob d of the repository.
func (r *Repository) commitBlob(d digest.Digest, b []byte) {
	r.ns.mu.Lock()
	defer r.ns.mu.Unlock()
	if _, ok := r.ns.blobs[d]; !ok {
		r.ns.blobs[d] = bytes.Clone(b)
	}
	st := r.ns.state(r.name, true)
	if _, ok := st.links[d]; !ok {
		st.links[d] = ""
	}
}
