package ocilayout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/atomicfile"
	"github.com/hoist-dev/hoist/internal/blobio"
	"github.com/hoist-dev/hoist/store"
)

// maxManifestPush caps how much of a manifest Push holds in memory.
const maxManifestPush = 64 << 20

// Exists reports whether blob desc is under blobs/ with desc's size (any
// size when desc.Size is negative). A file of the wrong size is reported
// absent, so that Push replaces it.
func (l *Layout) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	if err := checkBlob(ctx, desc.Digest); err != nil {
		return false, err
	}
	fi, err := l.statInside(blobRel(desc.Digest))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("OCI layout %s: %w", l.dir, err)
	}
	return fi.Mode().IsRegular() && (desc.Size < 0 || fi.Size() == desc.Size), nil
}

// Push stores desc, read from r, under blobs/. It returns at once, without
// reading r, when the layout already has the blob (size checked). A blob
// goes through a new ingest (store.PushIngest): its bytes go to a staging
// file and are renamed into place only once their size and digest match
// desc. Content proved wrong (digest mismatch, too long) is an error
// wrapping a *content.MismatchError; any failure leaves nothing behind.
// To resume an interrupted blob, write it through Ingest with a ref of
// your own (the copy engine uses the digest).
//
// A manifest or index (by media type) is read into memory (capped at
// 64 MiB), verified, and refused unless every child it names (config,
// layers, manifests; not its subject, nor foreign layers with URLs) is
// already in the layout. One with a subject (a referrer) is also listed
// in index.json, untagged (see Referrers). The caller keeps ownership of
// r.
func (l *Layout) Push(ctx context.Context, desc ocispec.Descriptor, r io.Reader) error {
	if ok, err := l.Exists(ctx, desc); err != nil || ok {
		return err
	}
	if isManifest(desc) {
		return l.pushManifest(ctx, desc, r)
	}
	if err := store.PushIngest(ctx, l, desc, r); err != nil {
		return fmt.Errorf("write %s to OCI layout %s: %w", desc.Digest, l.dir, err)
	}
	return nil
}

// pushManifest verifies a manifest in memory, checks that its children are
// present, and writes it.
func (l *Layout) pushManifest(ctx context.Context, desc ocispec.Descriptor, r io.Reader) error {
	v, err := content.NewVerifier(blobio.ContextReader(ctx, r), desc)
	if err != nil {
		return err
	}
	limit := int64(content.DefaultMaxManifestSize)
	if desc.Size > limit {
		limit = min(desc.Size, maxManifestPush)
	}
	raw, err := content.ReadCapped(v, limit, "manifest "+desc.Digest.String())
	if err != nil {
		return fmt.Errorf("write %s to OCI layout %s: %w", desc.Digest, l.dir, err)
	}
	m, err := content.Decode(desc.MediaType, raw)
	if err != nil {
		return fmt.Errorf("write %s to OCI layout %s: %w", desc.Digest, l.dir, err)
	}
	for _, ch := range content.Children(m) {
		d := ch.Descriptor
		if ch.Role == content.RoleSubject || len(d.URLs) > 0 || d.MediaType == content.MediaTypeDockerForeignLayer {
			continue
		}
		ok, err := l.Exists(ctx, d)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("write %s %s to OCI layout %s: its %s %s is not in the layout; push children before their manifest: %w",
				m.Kind, desc.Digest, l.dir, ch.Role, d.Digest, store.ErrNotFound)
		}
	}
	f, err := l.createTemp(desc)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(raw)
	if err == nil {
		err = l.commit(f, desc)
	}
	if err != nil {
		os.Remove(f.Name())
		l.tidy()
		return fmt.Errorf("write %s to OCI layout %s: %w", desc.Digest, l.dir, err)
	}
	return l.recordReferrer(ctx, m, desc)
}

// commit makes the verified file f the blob desc: rename into blobs/.
// Its writeback starts now, but the wait for it (fsync) is left to flush,
// which Tag calls before naming anything: a pull pays for one round of
// syncs at the end instead of one stall per blob, and a tag still never
// lands before the content it names is on disk.
func (l *Layout) commit(f *os.File, desc ocispec.Descriptor) error {
	startWriteback(f)
	dst := l.blobPath(desc.Digest)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return err
	}
	l.tidy()
	l.pendingMu.Lock()
	l.pending = append(l.pending, dst)
	l.pendingMu.Unlock()
	return nil
}

// flush fsyncs the blobs committed since the last flush, and their
// directories.
func (l *Layout) flush() error {
	l.pendingMu.Lock()
	paths := l.pending
	l.pending = nil
	l.pendingMu.Unlock()
	dirs := map[string]bool{}
	for _, p := range paths {
		if err := atomicfile.SyncFile(p); err != nil {
			l.pendingMu.Lock()
			l.pending = append(l.pending, paths...)
			l.pendingMu.Unlock()
			return err
		}
		dirs[filepath.Dir(p)] = true
	}
	for d := range dirs {
		if err := atomicfile.SyncDir(d); err != nil {
			return err
		}
	}
	return nil
}
