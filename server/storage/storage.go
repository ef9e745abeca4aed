package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	driver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/opencontainers/go-digest"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
)

// Namespace is hoist's registry storage over one storage driver: every
// repository of one registry. It implements store.Namespace and is safe
// for concurrent use, also by several processes sharing the driver's
// storage (see the package doc for what that relies on).
type Namespace struct {
	d   driver.StorageDriver
	cfg config
}

var _ store.Namespace = (*Namespace)(nil)

// Option configures a Namespace; pass options to New.
type Option func(*config)

type config struct {
	allowMissing    bool
	maxManifestSize int64
	registry        string
	partSize        int64
	atomicPut       bool
	redirects       bool
	now             func() time.Time
}

// WithAllowMissing makes manifest pushes succeed even when blobs or
// manifests they refer to are not in the repository (sparse manifests,
// as a mirror of part of an index holds). The default refuses them.
func WithAllowMissing(allow bool) Option {
	return func(c *config) { c.allowMissing = allow }
}

// WithMaxManifestSize caps the size of a manifest Push accepts. The
// default is content.DefaultMaxManifestSize (4 MiB).
func WithMaxManifestSize(n int64) Option {
	return func(c *config) { c.maxManifestSize = n }
}

// WithRegistry sets the host name repositories report from Registry (the
// store.Mounter contract), for messages. The default is "hoist".
func WithRegistry(host string) Option {
	return func(c *config) { c.registry = host }
}

// WithPartSize says the driver's writer keeps appended bytes in parts of
// n bytes that cannot be read back until the write is committed, as an
// object store's multipart upload does (distribution's S3 driver: its
// chunksize). Uploads then save their hash state at every part boundary
// before the part is sent, and a request cut off keeps only its whole
// parts, so any instance continues the upload from the last one. The
// default, 0, is for drivers whose written bytes can be read back (the
// filesystem): a lost hash state is rebuilt by reading them.
func WithPartSize(n int64) Option {
	return func(c *config) { c.partSize = n }
}

// WithAtomicPut says the driver's PutContent replaces a path whole, a
// reader seeing the old content or the new and never a part (an object
// store's PUT): small files (tags, links) are then written in place, not
// written under tmp/ and moved, which on an object store is a copy and a
// delete, four requests more.
func WithAtomicPut(atomic bool) Option {
	return func(c *config) { c.atomicPut = atomic }
}

// WithRedirects makes Repository.BlobRedirect hand out the driver's
// redirect URLs (an S3 presigned GET), so blob pulls go to the object
// store directly. Clients must be able to reach it. The default serves
// every byte through the registry.
func WithRedirects(on bool) Option {
	return func(c *config) { c.redirects = on }
}

// WithClock replaces time.Now for GC's grace period, so tests can move
// time.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// New returns the registry storage kept through d. It writes nothing until
// the first push.
func New(d driver.StorageDriver, opts ...Option) (*Namespace, error) {
	if d == nil {
		return nil, errors.New("registry storage: the storage driver is nil")
	}
	cfg := config{maxManifestSize: content.DefaultMaxManifestSize, registry: "hoist", now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.maxManifestSize <= 0 {
		return nil, fmt.Errorf("registry storage: maximum manifest size %d must be positive", cfg.maxManifestSize)
	}
	if cfg.partSize < 0 {
		return nil, fmt.Errorf("registry storage: part size %d must not be negative", cfg.partSize)
	}
	if cfg.now == nil {
		return nil, errors.New("registry storage: the clock must not be nil")
	}
	return &Namespace{d: d, cfg: cfg}, nil
}

// OpenBlob returns the stored blob d from offset on, whatever repository
// holds it, unverified; an error matching errdef.ErrNotFound when no
// repository does. The v1 API, whose layers belong to no repository,
// reads through it.
func (ns *Namespace) OpenBlob(ctx context.Context, d digest.Digest, offset int64) (io.ReadCloser, error) {
	if err := validDigest(d); err != nil {
		return nil, err
	}
	rc, err := ns.d.Reader(ctx, blobData(d), offset)
	if isNotFound(err) {
		return nil, fmt.Errorf("blob %s: %w", d, errdef.ErrNotFound)
	}
	return rc, err
}

// Driver returns the storage driver the namespace stands on.
func (ns *Namespace) Driver() driver.StorageDriver { return ns.d }

// Repository opens repository name; see store.Namespace.
func (ns *Namespace) Repository(ctx context.Context, name string) (store.Repository, error) {
	return ns.repository(name)
}

func (ns *Namespace) repository(name string) (*Repository, error) {
	if err := reference.ValidateRepository(name); err != nil {
		return nil, fmt.Errorf("%w: repository name %q: %v", errdef.ErrInvalid, name, err)
	}
	return &Repository{ns: ns, name: name, root: path.Join(rootRepos, name)}, nil
}

// Repositories lists the repositories that hold at least one manifest, in
// lexical order, paged; see store.Namespace.
func (ns *Namespace) Repositories(ctx context.Context, p store.Page) ([]string, error) {
	var names []string
	if err := ns.walkRepos(ctx, rootRepos, "", false, &names); err != nil {
		return nil, err
	}
	slices.Sort(names)
	return store.PageOf(names, p), nil
}

// maxRepoDepth bounds the catalog walk; the repository grammar allows at
// most 255 characters, so 128 components.
const maxRepoDepth = 128

// walkRepos appends to names every repository at or below dir: those
// holding manifests, or with all every directory of one (GC wants those
// holding only uploads or links too).
func (ns *Namespace) walkRepos(ctx context.Context, dir, name string, all bool, names *[]string) error {
	if strings.Count(name, "/") > maxRepoDepth {
		return nil
	}
	kids, err := ns.d.List(ctx, dir)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing %s: %w", dir, err)
	}
	own := false
	for _, k := range kids {
		base := path.Base(k)
		if strings.HasPrefix(base, "_") {
			own = own || all || base == dirManifests
			continue
		}
		child := base
		if name != "" {
			child = name + "/" + base
		}
		if err := ns.walkRepos(ctx, k, child, all, names); err != nil {
			return err
		}
	}
	if own && name != "" {
		*names = append(*names, name)
	}
	return nil
}

// Storage paths; see the package doc.
const (
	rootDir      = "/hoist"
	rootBlobs    = rootDir + "/blobs"
	rootRepos    = rootDir + "/repositories"
	rootTmp      = rootDir + "/tmp"
	dirBlobs     = "_blobs"
	dirManifests = "_manifests"
	dirTags      = "_tags"
	dirReferrers = "_referrers"
	dirUploads   = "_uploads"
)

// blobDir is where the blob d lives, with its data and used files.
func blobDir(d digest.Digest) string {
	h := d.Encoded()
	return path.Join(rootBlobs, string(d.Algorithm()), h[:2], h)
}

func blobData(d digest.Digest) string { return path.Join(blobDir(d), "data") }
func blobUsed(d digest.Digest) string { return path.Join(blobDir(d), "used") }

// isNotFound reports whether a driver error says the path does not exist.
func isNotFound(err error) bool {
	var nf driver.PathNotFoundError
	return errors.As(err, &nf)
}

// putAtomic writes data to p so that a reader sees either the old content
// or all of the new: written whole under tmp/, then moved.
func (ns *Namespace) putAtomic(ctx context.Context, p string, data []byte) error {
	if ns.cfg.atomicPut {
		if err := ns.d.PutContent(ctx, p, data); err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
		return nil
	}
	tmp := path.Join(rootTmp, randomID())
	if err := ns.d.PutContent(ctx, tmp, data); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	if err := ns.move(ctx, tmp, p); err != nil {
		_ = ns.d.Delete(ctx, tmp)
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}

// move moves src to dst, once more if the first try failed while src is
// still there: a concurrent GC may have removed dst's empty parent
// between the driver creating it and renaming into it.
func (ns *Namespace) move(ctx context.Context, src, dst string) error {
	err := ns.d.Move(ctx, src, dst)
	if err != nil {
		if _, serr := ns.d.Stat(ctx, src); serr == nil {
			err = ns.d.Move(ctx, src, dst)
		}
	}
	return err
}

// deleteIfExists deletes p; a p that does not exist is no error.
func (ns *Namespace) deleteIfExists(ctx context.Context, p string) error {
	if err := ns.d.Delete(ctx, p); err != nil && !isNotFound(err) {
		return fmt.Errorf("deleting %s: %w", p, err)
	}
	return nil
}

// randomID returns 32 random hex digits: upload IDs and temporary names.
func randomID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// validDigest checks d for use in a path: a known algorithm and hex of the
// right length.
func validDigest(d digest.Digest) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("%w: digest %q: %v", errdef.ErrInvalid, d, err)
	}
	return nil
}
