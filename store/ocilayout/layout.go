package ocilayout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
)

// File and directory names inside a layout.
const (
	layoutFile = ocispec.ImageLayoutFile // "oci-layout"
	indexFile  = "index.json"
	blobsDir   = ocispec.ImageBlobsDir // "blobs"
	// tmpDirName holds staging files and temporaries; never read as content.
	tmpDirName = ".hoist-tmp"
)

// errNotLayout marks a directory that exists but has no oci-layout file.
var errNotLayout = errors.New("not an OCI image layout")

// Layout is an OCI image layout directory as a store. It implements
// store.Reader, store.Writer, store.Ingester, store.RangeReader,
// store.TagLister, store.Statter, store.Deleter, store.Untagger,
// store.Referencer and store.Aborter.
//
// A Layout holds no open files and caches nothing: every call reads the
// directory as it is, so changes by other processes are seen at once. It
// is safe for concurrent use by goroutines, and several processes may
// write one layout at the same time (see the package documentation). It
// needs no closing.
type Layout struct {
	dir string
	ref string // what Resolve("") names: WithReference
	// indexMu serialises this process's index.json updates, so goroutines
	// queue here rather than poll the file lock.
	indexMu sync.Mutex

	// pending lists blobs renamed into blobs/ whose data this Layout has
	// not fsync'd yet; Tag syncs them before it names anything (see flush).
	pendingMu sync.Mutex
	pending   []string

	// created is set when Create made dir (it did not exist): Abort may
	// then remove it again.
	created bool
}

// Option configures Open and Create.
type Option func(*Layout)

// WithReference binds the layout to the image ref names in it, a tag or a
// digest string: the TAG of oci:DIR:TAG or the DIGEST of oci:DIR@DIGEST.
// Resolve("") then resolves ref, and Location reports it. Without it,
// Resolve("") is the layout's only image.
func WithReference(ref string) Option { return func(l *Layout) { l.ref = ref } }

func bind(dir string, opts []Option) *Layout {
	l := &Layout{dir: dir}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Open opens the existing layout in dir. A missing directory or oci-layout
// file is an error naming dir (matching store.ErrNotFound when dir does not
// exist), as is a layout version other than 1.x.
func Open(ctx context.Context, dir string, opts ...Option) (*Layout, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l := bind(dir, opts)
	if err := l.checkLayout(); err != nil {
		return nil, err
	}
	return l, nil
}

// Create opens the layout in dir for writing, creating it when dir does
// not exist or is empty: dir, blobs/, an empty index.json and, last, the
// oci-layout file. Creation runs under an flock of dir, so two processes
// creating one layout at once both succeed and share it. A directory that
// exists, is not empty and has no oci-layout file is an error naming it;
// hoist never writes into a directory it might clobber.
func Create(ctx context.Context, dir string, opts ...Option) (*Layout, error) {
	l := bind(dir, opts)
	if err := l.checkLayout(); err == nil {
		return l, nil
	} else if !errors.Is(err, errNotLayout) && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	_, statErr := os.Stat(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create OCI layout: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("create OCI layout: %w", err)
	}
	defer d.Close()
	if err := lockWait(ctx, d); err != nil {
		return nil, fmt.Errorf("create OCI layout %s: %w", dir, err)
	}
	// Another process may have finished creating it while we waited.
	if err := l.checkLayout(); err == nil {
		return l, nil
	} else if !errors.Is(err, errNotLayout) {
		return nil, err
	}
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("create OCI layout: %w", err)
	}
	for _, n := range names {
		if n != tmpDirName && !l.leftByCreate(n) {
			return nil, fmt.Errorf("%s is not an OCI image layout (it has no %s file) and is not empty (it holds %q): choose a new or empty directory", dir, layoutFile, n)
		}
	}
	l.created = errors.Is(statErr, fs.ErrNotExist)
	if err := os.MkdirAll(filepath.Join(dir, blobsDir, string(digest.Canonical)), 0o755); err != nil {
		return nil, fmt.Errorf("create OCI layout: %w", err)
	}
	empty, err := json.Marshal(ocispec.Index{
		Versioned: specsVersioned(),
		MediaType: content.MediaTypeOCIIndex,
		Manifests: []ocispec.Descriptor{},
	})
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(l.tmpDir(), filepath.Join(dir, indexFile), empty); err != nil {
		return nil, fmt.Errorf("create OCI layout: %w", err)
	}
	marker, err := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(l.tmpDir(), filepath.Join(dir, layoutFile), marker); err != nil {
		return nil, fmt.Errorf("create OCI layout: %w", err)
	}
	l.tidy()
	return l, nil
}

// leftByCreate reports whether entry name of a directory without an
// oci-layout file is what an interrupted Create leaves behind (a process
// killed before it wrote oci-layout, which it writes last): blobs/ holding
// only empty directories, or an index.json naming nothing. A re-run then
// finishes the layout instead of refusing the directory.
func (l *Layout) leftByCreate(name string) bool {
	switch name {
	case blobsDir:
		empty := true
		filepath.WalkDir(filepath.Join(l.dir, blobsDir), func(_ string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				empty = false
				return filepath.SkipAll
			}
			return nil
		})
		return empty
	case indexFile:
		ix, err := l.readIndex()
		return err == nil && len(ix.entries) == 0
	}
	return false
}

// checkLayout reads and checks the oci-layout file.
func (l *Layout) checkLayout() error {
	b, err := os.ReadFile(filepath.Join(l.dir, layoutFile))
	if errors.Is(err, fs.ErrNotExist) {
		fi, serr := os.Stat(l.dir)
		switch {
		case errors.Is(serr, fs.ErrNotExist):
			return fmt.Errorf("no OCI image layout at %s: the directory does not exist: %w", l.dir, store.ErrNotFound)
		case serr != nil:
			return fmt.Errorf("open OCI layout: %w", serr)
		case !fi.IsDir():
			return fmt.Errorf("%s is a file, not an OCI image layout directory", l.dir)
		}
		return fmt.Errorf("%s: %w (it has no %s file)", l.dir, errNotLayout, layoutFile)
	}
	if err != nil {
		return fmt.Errorf("open OCI layout: %w", err)
	}
	var v ocispec.ImageLayout
	if len(b) > 64<<10 || json.Unmarshal(b, &v) != nil {
		return fmt.Errorf("%s: %s is not the JSON object an OCI layout has", l.dir, layoutFile)
	}
	if !strings.HasPrefix(v.Version, "1.") {
		return fmt.Errorf("%s: OCI layout version %q is not supported (hoist reads 1.x)", l.dir, v.Version)
	}
	return nil
}

// Dir returns the layout's directory as given to Open or Create.
func (l *Layout) Dir() string { return l.dir }

// Location returns the layout's location: oci:DIR, with the reference
// WithReference bound it to.
func (l *Layout) Location() store.Location {
	return store.Location{Kind: Kind, Path: l.dir, Tag: l.ref}
}

func (l *Layout) tmpDir() string { return filepath.Join(l.dir, tmpDirName) }

// blobPath is where the blob d lives. d must be valid (see validDigest),
// which keeps the path inside the layout.
func (l *Layout) blobPath(d digest.Digest) string {
	return filepath.Join(l.dir, blobsDir, d.Algorithm().String(), d.Encoded())
}

// blobRel is blobPath relative to the layout's directory, slash-separated.
func blobRel(d digest.Digest) string {
	return blobsDir + "/" + d.Algorithm().String() + "/" + d.Encoded()
}

// tidy removes the temporary directory if it is empty; a staged partial
// keeps it.
func (l *Layout) tidy() { os.Remove(l.tmpDir()) }

// isManifest reports whether desc is pushed as a manifest or index, whose
// children must already be present.
func isManifest(desc ocispec.Descriptor) bool {
	k := content.KindOf(desc.MediaType)
	return k == content.KindImage || k == content.KindIndex
}

// Interface checks.
var (
	_ store.Reader      = (*Layout)(nil)
	_ store.Writer      = (*Layout)(nil)
	_ store.Ingester    = (*Layout)(nil)
	_ store.Aborter     = (*Layout)(nil)
	_ store.RangeReader = (*Layout)(nil)
	_ store.TagLister   = (*Layout)(nil)
	_ store.Referencer  = (*Layout)(nil)
)
