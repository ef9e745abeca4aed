package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
)

// Reader reads the images of a docker save tarball. It implements
// store.Reader, store.RangeReader, store.Statter,
// store.Referencer and store.Closer.
//
// A Reader keeps the file open and its index (and every image's manifest
// and config) in memory; layer bytes are read from the file on demand. It
// is safe for concurrent use. The caller closes it; readers it handed out
// fail after that.
type Reader struct {
	path   string
	ref    reference.Reference // what Resolve("") names: WithReference
	f      *os.File
	files  map[string]member
	images []*image
	// blobs are the configs and layers of every image, by digest.
	blobs map[digest.Digest]member
	// configs and hashes are what Open learnt of each config and
	// compressed layer, so that it reads each once.
	configs map[member]*imageConfig
	hashes  map[member]digest.Digest
}

// Image is one image of an archive.
type Image struct {
	// RepoTags are the names manifest.json gives it, as written there
	// ("busybox:latest", "docker.io/example/app:v1"); none for an untagged
	// image.
	RepoTags []string
	// Descriptor describes its manifest (see the package documentation for
	// which manifest that is).
	Descriptor ocispec.Descriptor
}

// image is an Image with its manifest's bytes.
type image struct {
	Image
	raw []byte
}

// Open reads the index of the docker save tarball at path and the
// manifest and config of every image in it. It hashes compressed layers
// whose digest the archive does not spell out (a few archive writers), and
// nothing else. A missing file matches store.ErrNotFound; a tar without
// manifest.json, or whose manifest.json names files it does not hold, is
// an error naming the file. WithReference binds it to one of its images,
// which Resolve("") then names.
func Open(ctx context.Context, path string, opts ...Option) (*Reader, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("docker archive %s does not exist: %w", path, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open docker archive: %w", err)
	}
	r := &Reader{path: path, ref: o.ref, f: f, blobs: map[digest.Digest]member{},
		configs: map[member]*imageConfig{}, hashes: map[member]digest.Digest{}}
	if err := r.load(ctx); err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func (r *Reader) load(ctx context.Context) error {
	if fi, err := r.f.Stat(); err != nil {
		return err
	} else if fi.IsDir() {
		return fmt.Errorf("%s is a directory, not a docker archive; for an OCI layout write oci:%s", r.path, r.path)
	}
	files, err := indexTar(ctx, r.f)
	if err != nil {
		return err
	}
	r.files = files
	raw, err := r.readMember(manifestFile, maxManifestJSON)
	if err != nil {
		if _, ok := files[ociIndexFile]; ok && errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s has no %s: it is an OCI archive, not a docker save tarball; unpack it and read it as oci:DIR", r.path, manifestFile)
		}
		return err
	}
	var items []manifestItem
	if err := json.Unmarshal(raw, &items); err != nil {
		return fmt.Errorf("%s: %s is not a list of images: %v", r.path, manifestFile, err)
	}
	if len(items) == 0 {
		return fmt.Errorf("%s holds no image (%s is empty)", r.path, manifestFile)
	}
	embedded := r.embeddedManifests()
	for i, it := range items {
		img, err := r.loadImage(ctx, it, embedded)
		if err != nil {
			return fmt.Errorf("%s: image %d of %s: %w", r.path, i+1, manifestFile, err)
		}
		r.images = append(r.images, img)
	}
	return nil
}

// readMember reads a small member whole.
func (r *Reader) readMember(name string, limit int64) ([]byte, error) {
	m, ok := r.files[name]
	if !ok {
		return nil, fmt.Errorf("%s has no %s: %w", r.path, name, fs.ErrNotExist)
	}
	return content.ReadCapped(io.NewSectionReader(r.f, m.off, m.size), limit, r.path+": "+name)
}

// Location returns the archive's location: docker-archive:FILE[:REF].
func (r *Reader) Location() store.Location {
	return store.Location{Kind: Kind, Path: r.path, Ref: r.ref}
}

// Images lists the archive's images in manifest.json order.
func (r *Reader) Images() []Image {
	out := make([]Image, len(r.images))
	for i, img := range r.images {
		out[i] = img.Image
		out[i].RepoTags = append([]string(nil), img.RepoTags...)
	}
	return out
}

// Resolve returns the manifest descriptor of the image ref names:
//
//   - a name with or without a tag ("busybox", "example/app:v1",
//     "docker.io/example/app:v1"), matched against RepoTags after docker's
//     normalisation, "latest" when the tag is left out;
//   - the digest of an image's manifest, as a string;
//   - "" for the image WithReference bound the reader to, or without one
//     when the archive holds exactly one image.
//
// An image the archive lacks matches store.ErrNotFound; the error lists
// the names it has.
func (r *Reader) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	if err := ctx.Err(); err != nil {
		return ocispec.Descriptor{}, err
	}
	if ref == "" && r.ref.Repository != "" {
		ref = r.ref.Familiar()
	}
	if ref == "" {
		if len(r.images) == 1 {
			return r.images[0].Descriptor, nil
		}
		return ocispec.Descriptor{}, fmt.Errorf("docker archive %s holds %d images; name one as docker-archive:%s:NAME:TAG (%s)",
			r.path, len(r.images), r.path, r.describeTags())
	}
	if d, err := digest.Parse(ref); err == nil {
		for _, img := range r.images {
			if img.Descriptor.Digest == d {
				return img.Descriptor, nil
			}
		}
		return ocispec.Descriptor{}, fmt.Errorf("docker archive %s has no image with manifest %s: %w", r.path, d, store.ErrNotFound)
	}
	want, err := reference.Parse(ref)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if want.Digest != "" {
		return ocispec.Descriptor{}, fmt.Errorf("%q: a docker archive names images by tag, not digest", ref)
	}
	want = withDefaultTag(want)
	for _, img := range r.images {
		for _, rt := range img.RepoTags {
			if have, err := reference.Parse(rt); err == nil && withDefaultTag(have) == want {
				return img.Descriptor, nil
			}
		}
	}
	return ocispec.Descriptor{}, fmt.Errorf("docker archive %s has no image named %s (%s): %w", r.path, want.Familiar(), r.describeTags(), store.ErrNotFound)
}

func withDefaultTag(r reference.Reference) reference.Reference {
	if r.Tag == "" && r.Digest == "" {
		r.Tag = reference.DefaultTag
	}
	return r
}

func (r *Reader) describeTags() string {
	var tags []string
	for _, img := range r.images {
		tags = append(tags, img.RepoTags...)
	}
	if len(tags) == 0 {
		return "none is named"
	}
	return "it has " + strings.Join(tags, ", ")
}

// Fetch returns the content of desc: a manifest from memory, a config or
// layer from the file. The reader checks size and digest as it is read
// (see store.Reader) and implements content.Verifying; the caller closes
// it. Content the archive lacks
// matches store.ErrNotFound.
func (r *Reader) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	src, err := r.open(ctx, desc, 0)
	if err != nil {
		return nil, err
	}
	v, err := content.NewVerifier(src, desc)
	if err != nil {
		return nil, err
	}
	return verified{v}, nil
}

// verified is what Fetch returns: a Verifier, whose VerifiedAgainst
// (content.Verifying) lets a writer downstream skip hashing again, and a
// Close that does nothing (the file is the Reader's).
type verified struct{ *content.Verifier }

func (verified) Close() error { return nil }

// FetchFrom returns the bytes of desc from offset on, unverified (see
// store.RangeReader). The caller closes the reader.
func (r *Reader) FetchFrom(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	src, err := r.open(ctx, desc, offset)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(src), nil
}

func (r *Reader) open(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.Reader, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, img := range r.images {
		if img.Descriptor.Digest == desc.Digest {
			if offset < 0 || offset > int64(len(img.raw)) {
				return nil, fmt.Errorf("offset %d is outside manifest %s", offset, desc.Digest)
			}
			return bytes.NewReader(img.raw[offset:]), nil
		}
	}
	m, ok := r.blobs[desc.Digest]
	if !ok {
		return nil, fmt.Errorf("docker archive %s has no blob %s: %w", r.path, desc.Digest, store.ErrNotFound)
	}
	if offset < 0 || offset > m.size {
		return nil, fmt.Errorf("offset %d is outside blob %s", offset, desc.Digest)
	}
	return io.NewSectionReader(r.f, m.off+offset, m.size-offset), nil
}

// Close closes the archive file.
func (r *Reader) Close() error { return r.f.Close() }

// Interface checks.
var (
	_ store.Reader      = (*Reader)(nil)
	_ store.RangeReader = (*Reader)(nil)
	_ store.Referencer  = (*Reader)(nil)
	_ store.Statter     = (*Reader)(nil)
	_ store.Closer      = (*Reader)(nil)
)
