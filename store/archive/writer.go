package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/internal/atomicfile"
	"github.com/hoist-dev/hoist/internal/blobio"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
)

// Option configures Create.
type Option func(*options)

type options struct {
	ref reference.Reference
}

// WithReference binds the archive to the image REF of
// docker-archive:FILE:REF. Reading, Resolve("") resolves it. Writing,
// Tag(desc, tag) records REF's repository with tag (REF's own tag when tag
// is "", "latest" when both are empty) in manifest.json's RepoTags,
// repositories and index.json; without it, images are written untagged
// and a non-empty tag is an error.
func WithReference(ref reference.Reference) Option {
	return func(o *options) { o.ref = ref }
}

// Writer writes a docker save tarball. It implements store.Writer,
// store.Ingester, store.Statter, store.Untagger, store.Deleter,
// store.Referencer, store.Closer and store.Aborter.
//
// It writes to a temporary file beside the target, which Close renames to
// the target once manifest.json and the rest are written; Abort, or a
// Close with nothing tagged, removes it. Either must be called. A Writer is
// safe for concurrent use; writes to the tar are serialised.
type Writer struct {
	path string
	ref  reference.Reference

	// tarMu serialises writes to the tar and guards f and tw: Push holds
	// it for a whole entry, and a push that finds it taken spools first.
	// It is taken before mu, never while holding mu.
	tarMu sync.Mutex
	f     *atomicfile.File // nil once closed or discarded
	tw    *tar.Writer

	// mu guards the bookkeeping below and is held only briefly, so that
	// Exists, manifests and tags never wait for a layer.
	mu        sync.Mutex
	closed    bool
	blobs     map[digest.Digest]int64 // written, with their sizes
	ingests   map[string]*spoolFile   // open or closed ingests, by ref
	configs   map[digest.Digest][]byte
	manifests map[digest.Digest]*content.Manifest
	roots     []*root
}

// root is an image Tag recorded, with the names it carries.
type root struct {
	m    *content.Manifest
	tags []reference.Reference
}

// epoch is the modification time of every entry, so that one image
// always makes the same tar.
var epoch = time.Unix(0, 0)

// Create starts a docker archive that Close will write to path (replacing
// any file there). The temporary file is created in path's directory now,
// so a directory that cannot be written fails here.
func Create(ctx context.Context, path string, opts ...Option) (*Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory; a docker archive is a file (for an OCI layout write oci:%s)", path, path)
	}
	f, err := atomicfile.Create(path, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create docker archive: %w", err)
	}
	w := &Writer{
		path: path, ref: o.ref, f: f, tw: tar.NewWriter(f),
		blobs: map[digest.Digest]int64{}, ingests: map[string]*spoolFile{}, configs: map[digest.Digest][]byte{}, manifests: map[digest.Digest]*content.Manifest{},
	}
	for _, dir := range []string{"blobs/", "blobs/" + string(digest.Canonical) + "/"} {
		if err := w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: epoch}); err != nil {
			w.Abort(ctx)
			return nil, fmt.Errorf("create docker archive: %w", err)
		}
	}
	return w, nil
}

// Location returns the archive's location: docker-archive:FILE[:REF].
func (w *Writer) Location() store.Location {
	return store.Location{Kind: Kind, Path: w.path, Ref: w.ref}
}

// errIndex is the error for a multi-platform image. Its hint names the
// copy option that picks a platform, which a program with flags maps to
// its own (hoist's --platform).
func errIndex(desc ocispec.Descriptor) error {
	return &errdef.OptionHint{
		Err:    fmt.Errorf("%s is a multi-platform index; a docker archive holds one platform per image", desc.Digest),
		Action: "pick a platform", Option: "copy.WithPlatforms",
	}
}

// Exists reports whether desc was already written. It fails at once for
// an index, so a copy of a multi-platform image stops before any layer is
// transferred.
func (w *Writer) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if content.KindOf(desc.MediaType) == content.KindIndex {
		return false, errIndex(desc)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false, errClosed(w.path)
	}
	_, ok := w.blobs[desc.Digest]
	return ok || w.manifests[desc.Digest] != nil, nil
}

// Push adds desc, read from r and verified against it.
//
//   - A config or layer becomes a tar entry blobs/ALG/HEX as it is read. A
//     blob already written returns at once without reading r. Content that
//     does not match desc is cut back out of the tar and the error wraps a
//     *content.MismatchError.
//   - An image manifest is kept in memory for Close. Its config and layers
//     must have been pushed, its config must be an image config, and its
//     layers layers: docker load takes nothing else.
//   - An index or a schema 1 manifest is refused.
//
// The caller keeps ownership of r.
func (w *Writer) Push(ctx context.Context, desc ocispec.Descriptor, r io.Reader) error {
	if err := content.ValidateDescriptor(desc); err != nil {
		return err
	}
	switch content.KindOf(desc.MediaType) {
	case content.KindIndex:
		return errIndex(desc)
	case content.KindLegacy:
		return fmt.Errorf("%s is a Docker schema 1 manifest, which docker archives cannot hold", desc.Digest)
	case content.KindImage:
		return w.pushManifest(ctx, desc, r)
	}
	return w.pushBlob(ctx, desc, r)
}

// pushBlob adds blob desc, read from r and verified as it goes into the
// tar: at once when the tar is free, through a spool file otherwise.
func (w *Writer) pushBlob(ctx context.Context, desc ocispec.Descriptor, r io.Reader) error {
	if ok, err := w.Exists(ctx, desc); err != nil || ok {
		return err
	}
	v, err := content.NewVerifier(blobio.ContextReader(ctx, r), desc)
	if err != nil {
		return err
	}
	if isConfig(desc.MediaType) && desc.Size <= maxConfig {
		return w.pushConfig(desc, v)
	}
	if w.tarMu.TryLock() {
		defer w.tarMu.Unlock()
		return w.addLocked(desc, v)
	}
	return w.spool(desc, v)
}

func isConfig(mediaType string) bool {
	mt := content.BaseType(mediaType)
	return mt == content.MediaTypeDockerConfig || mt == content.MediaTypeOCIConfig
}

// pushConfig keeps a config's bytes (Close reads the diff_ids for the
// repositories file) and writes them.
func (w *Writer) pushConfig(desc ocispec.Descriptor, v io.Reader) error {
	b, err := content.ReadCapped(v, maxConfig, "config "+desc.Digest.String())
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.configs[desc.Digest] = b // before the blob shows, for Close
	w.mu.Unlock()
	w.tarMu.Lock()
	defer w.tarMu.Unlock()
	return w.addLocked(desc, bytes.NewReader(b))
}

// spool copies a blob to a temporary file while another push holds the
// tar, then appends it. The file is verified as it is written.
func (w *Writer) spool(desc ocispec.Descriptor, v io.Reader) error {
	f, err := os.CreateTemp(filepath.Dir(w.path), "."+filepath.Base(w.path)+".spool-*.tmp")
	if err != nil {
		return fmt.Errorf("spool %s: %w", desc.Digest, err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	n, err := blobio.Copy(f, v)
	if err != nil {
		return fmt.Errorf("write %s: %w", desc.Digest, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	w.tarMu.Lock()
	defer w.tarMu.Unlock()
	return w.addLocked(desc, io.LimitReader(f, n))
}

// addLocked writes blob desc as a tar entry from r, which yields exactly
// desc.Size bytes or fails. On failure the partial entry is cut off, so
// the tar ends after the last good entry. w.tarMu is held.
func (w *Writer) addLocked(desc ocispec.Descriptor, r io.Reader) error {
	w.mu.Lock()
	closed := w.closed
	_, done := w.blobs[desc.Digest]
	w.mu.Unlock()
	switch {
	case closed:
		return errClosed(w.path)
	case done:
		return nil
	}
	if err := w.entryLocked(blobName(desc.Digest), desc.Size, r); err != nil {
		return fmt.Errorf("write %s to docker archive %s: %w", desc.Digest, w.path, err)
	}
	w.mu.Lock()
	w.blobs[desc.Digest] = desc.Size
	w.mu.Unlock()
	return nil
}

// entryLocked writes one regular file entry. w.tarMu is held.
func (w *Writer) entryLocked(name string, size int64, r io.Reader) error {
	// Flush pads the previous entry, so off is where this header goes.
	if err := w.tw.Flush(); err != nil {
		return err
	}
	off, err := w.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	err = w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: epoch})
	if err == nil {
		_, err = blobio.Copy(w.tw, r)
	}
	if err != nil {
		// Cut the entry off and carry on from a fresh tar writer there.
		if terr := w.f.Truncate(off); terr != nil {
			return errors.Join(err, terr)
		}
		if _, serr := w.f.Seek(off, io.SeekStart); serr != nil {
			return errors.Join(err, serr)
		}
		w.tw = tar.NewWriter(w.f)
		return err
	}
	return nil
}

// pushManifest verifies an image manifest, checks what it refers to, and
// keeps it for Close.
func (w *Writer) pushManifest(ctx context.Context, desc ocispec.Descriptor, r io.Reader) error {
	v, err := content.NewVerifier(blobio.ContextReader(ctx, r), desc)
	if err != nil {
		return err
	}
	raw, err := content.ReadCapped(v, content.DefaultMaxManifestSize, "manifest "+desc.Digest.String())
	if err != nil {
		return err
	}
	m, err := content.Decode(desc.MediaType, raw)
	if err != nil {
		return err
	}
	if m.Image == nil {
		return fmt.Errorf("%s is a %s, not an image manifest; docker archives hold images", desc.Digest, m.Kind)
	}
	if !isConfig(m.Image.Config.MediaType) {
		return fmt.Errorf("%s is an artifact (config type %q), not a container image; docker archives hold images only", desc.Digest, m.Image.Config.MediaType)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errClosed(w.path)
	}
	for _, ch := range content.Children(m) {
		d := ch.Descriptor
		switch {
		case ch.Role == content.RoleSubject:
			continue
		case ch.Role == content.RoleLayer && !content.IsLayer(d.MediaType):
			return fmt.Errorf("%s: layer %s has media type %q, which docker load cannot apply", desc.Digest, d.Digest, d.MediaType)
		case !w.has(d.Digest):
			return fmt.Errorf("manifest %s: its %s %s has not been written to the archive; push children before their manifest: %w",
				desc.Digest, ch.Role, d.Digest, store.ErrNotFound)
		}
	}
	m.Descriptor = desc
	w.manifests[desc.Digest] = m
	return nil
}

// Tag records manifest desc, already pushed, as an image of the archive,
// named by the Writer's reference with tag (see WithReference). A name
// given to another image before moves to this one. An empty tag without
// a reference records the image untagged.
func (w *Writer) Tag(ctx context.Context, desc ocispec.Descriptor, tag string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var name reference.Reference
	switch {
	case w.ref.Repository != "":
		t := tag
		if t == "" {
			t = w.ref.Tag
		}
		if t == "" {
			t = reference.DefaultTag
		}
		var err error
		if name, err = w.ref.Context().WithTag(t); err != nil {
			return err
		}
	case tag != "":
		return fmt.Errorf("tag %q: docker-archive:%s has no image name to go with it; write docker-archive:%s:NAME:%s", tag, w.path, w.path, tag)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errClosed(w.path)
	}
	m := w.manifests[desc.Digest]
	if m == nil {
		return fmt.Errorf("tag %s: manifest %s has not been written to the archive: %w", name.Familiar(), desc.Digest, store.ErrNotFound)
	}
	var rt *root
	for _, r := range w.roots {
		if r.m == m {
			rt = r
		}
		if name.Repository != "" {
			r.tags = removeName(r.tags, name)
		}
	}
	if rt == nil {
		rt = &root{m: m}
		w.roots = append(w.roots, rt)
	}
	if name.Repository != "" {
		rt.tags = append(rt.tags, name)
	}
	return nil
}

func removeName(names []reference.Reference, n reference.Reference) []reference.Reference {
	out := names[:0]
	for _, x := range names {
		if x != n {
			out = append(out, x)
		}
	}
	return out
}

// has reports whether blob d was written. w.mu is held.
func (w *Writer) has(d digest.Digest) bool {
	_, ok := w.blobs[d]
	return ok
}

func errClosed(path string) error {
	return fmt.Errorf("docker archive %s is already closed or discarded", path)
}

// Interface checks.
var (
	_ store.Writer     = (*Writer)(nil)
	_ store.Referencer = (*Writer)(nil)
	_ store.Closer     = (*Writer)(nil)
	_ store.Aborter    = (*Writer)(nil)
	_ store.Statter    = (*Writer)(nil)
	_ store.Untagger   = (*Writer)(nil)
	_ store.Deleter    = (*Writer)(nil)
	_ store.Ingester   = (*Writer)(nil)
)
