package remote

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/legacy"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/ocilayout"
)

// V1Repository is a repository of a legacy Docker Registry v1 as a store.
// v1 has no manifests and no content-addressed blobs, so the repository
// converts through a private OCI layout in a temporary directory:
//
//   - reading, Resolve pulls the v1 image chain and converts it to an OCI
//     image (package legacy, ToOCI); Fetch then serves its blobs;
//   - writing, Push stages the OCI image, and Tag converts it to a v1 chain
//     (FromOCI) and pushes that, parents first.
//
// It implements store.Reader, store.Writer, store.Ingester (into the
// staging layout), store.TagLister, store.Statter, store.Deleter and
// store.Untagger (which v1 refuses), store.Closer and store.Referencer,
// and is safe for concurrent use. Close removes the staging directory.
type V1Repository struct {
	name   reference.V1Name
	client *legacy.Client
	opts   []legacy.Option

	mu    sync.Mutex
	stage *ocilayout.Layout
	dir   string
}

// NewV1 returns the v1 repository name names (its Tag is what Resolve
// answers for ""), reached with opts (transport and keychain).
func NewV1(name reference.V1Name, opts ...legacy.Option) (*V1Repository, error) {
	index := legacy.DockerHubIndex
	if !name.IsPublic() {
		index = name.IndexHost()
	}
	c, err := legacy.NewClient(index, opts...)
	if err != nil {
		return nil, err
	}
	return &V1Repository{name: name, client: c, opts: opts}, nil
}

// Client returns the v1 protocol client, for search and login.
func (r *V1Repository) Client() *legacy.Client { return r.client }

// Location returns the repository as a registry location:
// HOST/NAMESPACE/REPO[:TAG].
func (r *V1Repository) Location() store.Location {
	ref, err := reference.Parse(r.name.String())
	if err != nil {
		return store.Location{Kind: Kind}
	}
	return store.Location{Kind: Kind, Ref: ref}
}

// staging returns the private layout, creating it on first use.
func (r *V1Repository) staging(ctx context.Context) (*ocilayout.Layout, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stage != nil {
		return r.stage, nil
	}
	dir, err := os.MkdirTemp("", "hoist-v1-")
	if err != nil {
		return nil, fmt.Errorf("v1 staging directory: %w", err)
	}
	l, err := ocilayout.Create(ctx, filepath.Join(dir, "layout"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	r.stage, r.dir = l, dir
	return l, nil
}

// Close removes the staging directory.
func (r *V1Repository) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dir == "" {
		return nil
	}
	err := os.RemoveAll(r.dir)
	r.stage, r.dir = nil, ""
	return err
}

// Resolve pulls tag (the name's own tag, or latest, for "") and converts
// it to an OCI image, whose manifest descriptor it returns.
func (r *V1Repository) Resolve(ctx context.Context, tag string) (ocispec.Descriptor, error) {
	if tag == "" {
		tag = r.name.Tag
	}
	if tag == "" {
		tag = reference.DefaultTag
	}
	stage, err := r.staging(ctx)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if d, err := stage.Resolve(ctx, tag); err == nil {
		return d, nil
	}
	chain, err := r.client.Pull(ctx, r.name.Remote(), tag)
	if err != nil {
		if errors.Is(err, errcode.ErrNotFound) {
			return ocispec.Descriptor{}, fmt.Errorf("%s:%s: %w: %w", r.name.Remote(), tag, store.ErrNotFound, err)
		}
		return ocispec.Descriptor{}, err
	}
	img, err := legacy.ToOCI(ctx, chain, layoutSink{stage}, r.opts...)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := stage.Push(ctx, img.ManifestDescriptor, bytes.NewReader(img.Manifest)); err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := stage.Tag(ctx, img.ManifestDescriptor, tag); err != nil {
		return ocispec.Descriptor{}, err
	}
	return img.ManifestDescriptor, nil
}

// Fetch serves a blob of an image Resolve converted.
func (r *V1Repository) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	stage, err := r.staging(ctx)
	if err != nil {
		return nil, err
	}
	return stage.Fetch(ctx, desc)
}

// Tags lists the repository's tags that p selects, sorted. v1 has no
// paging: the whole list is fetched and then cut.
func (r *V1Repository) Tags(ctx context.Context, p store.Page) ([]string, error) {
	rd, err := r.client.RepositoryData(ctx, r.name.Remote())
	if err != nil {
		return nil, err
	}
	s, err := r.client.NewSession(ctx, rd)
	if err != nil {
		return nil, err
	}
	m, err := s.Tags(ctx, r.name.Remote())
	if err != nil {
		return nil, err
	}
	tags := make([]string, 0, len(m))
	for t := range m {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	return store.PageOf(tags, p), nil
}

// Exists reports false: a v1 push decides per image whether the registry
// has it ("Image already exists"), after conversion.
func (r *V1Repository) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	return false, nil
}

// Push stages desc for the conversion Tag does.
func (r *V1Repository) Push(ctx context.Context, desc ocispec.Descriptor, rd io.Reader) error {
	if content.KindOf(desc.MediaType) == content.KindIndex {
		return &errdef.OptionHint{
			Err:    fmt.Errorf("%s: a v1 registry holds single-platform images, and %s is a multi-platform index", r.name.Remote(), desc.Digest),
			Action: "pick a platform", Option: "copy.WithPlatforms",
		}
	}
	stage, err := r.staging(ctx)
	if err != nil {
		return err
	}
	return stage.Push(ctx, desc, rd)
}

// Ingest opens a blob ingest in the staging layout, for the conversion
// Tag does (store.Ingester).
func (r *V1Repository) Ingest(ctx context.Context, ref string, opts store.IngestOptions) (store.Ingest, error) {
	stage, err := r.staging(ctx)
	if err != nil {
		return nil, err
	}
	return stage.Ingest(ctx, ref, opts)
}

// Stat describes a blob of an image Resolve converted or Push staged
// (store.Statter): v1 has no content addressed by digest to ask about.
func (r *V1Repository) Stat(ctx context.Context, d digest.Digest) (ocispec.Descriptor, error) {
	stage, err := r.staging(ctx)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc, err := stage.Stat(ctx, d)
	if errors.Is(err, store.ErrNotFound) {
		return ocispec.Descriptor{}, fmt.Errorf("%s: %s is not among the blobs of the images converted so far (v1 names layers by image ID): %w", r.name.Remote(), d, store.ErrNotFound)
	}
	return desc, err
}

// errV1Delete is the error of Delete and Untag: the v1 API hoist speaks has
// no deletion.
func (r *V1Repository) errV1Delete() error {
	return fmt.Errorf("%s speaks only the legacy v1 protocol, which has no deletion: %w", r.name.IndexHost(), errdef.ErrUnsupported)
}

// Delete fails with an error matching errdef.ErrUnsupported
// (store.Deleter).
func (r *V1Repository) Delete(ctx context.Context, desc ocispec.Descriptor) error {
	return r.errV1Delete()
}

// Untag fails with an error matching errdef.ErrUnsupported
// (store.Untagger).
func (r *V1Repository) Untag(ctx context.Context, tag string) error {
	return r.errV1Delete()
}

// Tag converts the staged image desc to a v1 chain and pushes it as tag.
func (r *V1Repository) Tag(ctx context.Context, desc ocispec.Descriptor, tag string) error {
	if tag == "" {
		tag = reference.DefaultTag
	}
	stage, err := r.staging(ctx)
	if err != nil {
		return err
	}
	rc, err := stage.Fetch(ctx, desc)
	if err != nil {
		return err
	}
	raw, err := content.ReadCapped(rc, content.DefaultMaxManifestSize, "manifest")
	rc.Close()
	if err != nil {
		return err
	}
	chain, err := legacy.FromOCI(ctx, stage, raw)
	if err != nil {
		return err
	}
	_, err = r.client.Push(ctx, r.name.Remote(), tag, chain)
	return err
}

// layoutSink writes blobs of unknown digest into a layout: to a temporary
// file while hashing, then through Push, which verifies and renames.
type layoutSink struct{ l *ocilayout.Layout }

func (s layoutSink) PutBlob(ctx context.Context, mediaType string, r io.Reader) (ocispec.Descriptor, error) {
	f, err := os.CreateTemp(filepath.Dir(s.l.Dir()), "blob-")
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc := ocispec.Descriptor{MediaType: mediaType, Digest: digest.NewDigest(digest.SHA256, h), Size: n}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := s.l.Push(ctx, desc, f); err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, nil
}
