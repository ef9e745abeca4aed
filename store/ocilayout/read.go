package ocilayout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
)

// Resolve returns the descriptor of the manifest or index ref names:
//
//   - a tag, matched against the org.opencontainers.image.ref.name
//     annotation of index.json's entries;
//   - a digest string, found in index.json or else among the blobs (the
//     media type then comes from the manifest itself);
//   - "" for the reference WithReference bound the layout to, or without
//     one when index.json has exactly one root (a crane layout without
//     tags, for instance); with several, the error lists the tags.
//
// A tag or digest the layout lacks matches store.ErrNotFound. The result
// carries the entry's media type, digest, size and platform, not its
// annotations.
func (l *Layout) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	if err := ctx.Err(); err != nil {
		return ocispec.Descriptor{}, err
	}
	ix, err := l.readIndex()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if ref == "" {
		ref = l.ref
	}
	if ref == "" {
		return l.resolveOnly(ix)
	}
	if strings.Contains(ref, ":") {
		if d, err := digest.Parse(ref); err == nil {
			return l.resolveDigest(ctx, ix, d)
		}
	}
	var found []ocispec.Descriptor
	for _, e := range ix.entries {
		if e.refName() == ref && !containsDigest(found, e.desc.Digest) {
			found = append(found, e.desc)
		}
	}
	switch len(found) {
	case 0:
		return ocispec.Descriptor{}, fmt.Errorf("OCI layout %s has no tag %q (%s): %w", l.dir, ref, describeTags(ix), store.ErrNotFound)
	case 1:
		return root(found[0]), nil
	}
	return ocispec.Descriptor{}, fmt.Errorf("OCI layout %s: tag %q names %d different manifests in index.json; name one by digest: oci:%s@%s",
		l.dir, ref, len(found), l.dir, found[0].Digest)
}

func (l *Layout) resolveOnly(ix *index) (ocispec.Descriptor, error) {
	var roots []ocispec.Descriptor
	for _, e := range ix.entries {
		if !containsDigest(roots, e.desc.Digest) {
			roots = append(roots, e.desc)
		}
	}
	switch len(roots) {
	case 0:
		return ocispec.Descriptor{}, fmt.Errorf("OCI layout %s holds no image (index.json is empty): %w", l.dir, store.ErrNotFound)
	case 1:
		return root(roots[0]), nil
	}
	return ocispec.Descriptor{}, fmt.Errorf("OCI layout %s holds %d images; name one as oci:%s:TAG or oci:%s@DIGEST (%s)",
		l.dir, len(roots), l.dir, l.dir, describeTags(ix))
}

func (l *Layout) resolveDigest(ctx context.Context, ix *index, d digest.Digest) (ocispec.Descriptor, error) {
	for _, e := range ix.entries {
		if e.desc.Digest == d {
			return root(e.desc), nil
		}
	}
	// Not a root, but maybe a manifest of an index in the layout: learn its
	// media type from its own bytes.
	f, err := l.open(ctx, ocispec.Descriptor{Digest: d})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc := ocispec.Descriptor{Digest: d, Size: fi.Size()}
	rc, err := content.NewVerifier(f, desc)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	raw, err := content.ReadCapped(rc, content.DefaultMaxManifestSize, "manifest "+d.String())
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	m, err := content.Decode("", raw)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("OCI layout %s: blob %s is not a manifest: %w", l.dir, d, err)
	}
	desc = m.Descriptor
	desc.Digest = d
	return desc, nil
}

func root(d ocispec.Descriptor) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: d.MediaType, ArtifactType: d.ArtifactType, Digest: d.Digest, Size: d.Size, Platform: d.Platform}
}

func containsDigest(ds []ocispec.Descriptor, d digest.Digest) bool {
	for _, x := range ds {
		if x.Digest == d {
			return true
		}
	}
	return false
}

// describeTags names a layout's tags for an error message.
func describeTags(ix *index) string {
	tags := ix.tags()
	switch {
	case len(tags) == 0:
		return "it has no tags"
	case len(tags) > 20:
		return "tags: " + strings.Join(tags[:20], ", ") + fmt.Sprintf(" and %d more", len(tags)-20)
	}
	return "tags: " + strings.Join(tags, ", ")
}

func (ix *index) tags() []string {
	var tags []string
	seen := map[string]bool{}
	for _, e := range ix.entries {
		if t := e.refName(); t != "" && !seen[t] {
			seen[t] = true
			tags = append(tags, t)
		}
	}
	return tags
}

// Tags returns the tags of index.json that p selects, sorted, each once.
func (l *Layout) Tags(ctx context.Context, p store.Page) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ix, err := l.readIndex()
	if err != nil {
		return nil, err
	}
	tags := ix.tags()
	sort.Strings(tags)
	return store.PageOf(tags, p), nil
}

// Fetch opens blob desc (a manifest, config or layer alike). The reader
// checks size and digest as it is read (see store.Reader) and implements
// content.Verifying; the caller closes it. A blob the layout lacks matches
// store.ErrNotFound.
func (l *Layout) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	f, err := l.open(ctx, desc)
	if err != nil {
		return nil, err
	}
	v, err := content.NewVerifier(f, desc)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &verifiedFile{Verifier: v, f: f, l: l, desc: desc}, nil
}

// verifiedFile is what Fetch returns: the file through a Verifier, whose
// VerifiedAgainst (content.Verifying) lets a writer downstream skip hashing
// the bytes again, and whose DeferVerification (content.Deferring) lets a
// registry's check at the commit of an upload stand for the hash: the
// layout checked the blob when it took it in.
type verifiedFile struct {
	*content.Verifier
	f    *os.File
	l    *Layout
	desc ocispec.Descriptor
}

// DeferVerification returns the file itself, unhashed, and the error for
// a receiver that finds its bytes do not match (content.Deferring).
func (v *verifiedFile) DeferVerification() (content.Deferred, bool) {
	path := filepath.Join(v.l.dir, filepath.FromSlash(blobRel(v.desc.Digest)))
	return content.Deferred{
		R:       v.f,
		Corrupt: fmt.Errorf("OCI layout %s is corrupt: its blob %s does not match its digest (remove %s and copy the image into the layout again)", v.l.dir, v.desc.Digest, path),
	}, true
}

func (v *verifiedFile) Close() error { return v.f.Close() }

// FetchFrom opens blob desc at offset, for serving a range or resuming a
// copy elsewhere. The bytes are not verified (see store.RangeReader); the
// caller closes the reader.
func (l *Layout) FetchFrom(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	f, err := l.open(ctx, desc)
	if err != nil {
		return nil, err
	}
	n := desc.Size - offset
	if desc.Size < 0 {
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		n = fi.Size() - offset
	}
	if offset < 0 || n < 0 {
		f.Close()
		return nil, fmt.Errorf("offset %d is outside blob %s", offset, desc.Digest)
	}
	return &readCloser{Reader: io.NewSectionReader(f, offset, n), Closer: f}, nil
}

func (l *Layout) open(ctx context.Context, desc ocispec.Descriptor) (*os.File, error) {
	if err := checkBlob(ctx, desc.Digest); err != nil {
		return nil, err
	}
	f, err := l.openInside(blobRel(desc.Digest))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("OCI layout %s has no blob %s: %w", l.dir, desc.Digest, store.ErrNotFound)
	}
	return f, err
}

// checkBlob checks what every look-up of the blob d needs first: ctx is
// not done, and d is valid (validDigest).
func checkBlob(ctx context.Context, d digest.Digest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return validDigest(d)
}

// validDigest checks what a blob path is made of: a well-formed digest of
// an algorithm this build can compute. Sizes may be unknown (-1) for reads.
func validDigest(d digest.Digest) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("invalid digest %q: %w", d, err)
	}
	return nil
}

type readCloser struct {
	io.Reader
	io.Closer
}
