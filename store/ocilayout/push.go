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
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := validDigest(desc.Digest); err != nil {
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
// reading r, when the layout already has the blob (size checked). Otherwise
// the bytes go to a staging file and are renamed into place only once
// their size and digest match desc and they are fsync'd. Content proved
// wrong (digest mismatch, too long) is an error wrapping a
// *content.MismatchError and leaves nothing behind. When r fails, ends
// early or ctx ends part way, the bytes so far stay staged for PushFrom
// (see Partial) and nothing is visible.
//
// A manifest or index (by media type) is read into memory (capped at
// 64 MiB), verified, and refused unless every child it names (config,
// layers, manifests; not its subject, nor foreign layers with URLs) is
// already in the layout. The caller keeps ownership of r.
func (l *Layout) Push(ctx context.Context, desc ocispec.Descriptor, r io.Reader) error {
	if ok, err := l.Exists(ctx, desc); err != nil || ok {
		return err
	}
	if isManifest(desc) {
		return l.pushManifest(ctx, desc, r)
	}
	return l.write(ctx, desc, 0, r)
}

// Partial returns how many bytes of desc an interrupted Push or PushFrom
// left staged, 0 when none. It does not check them: PushFrom does, at the
// end.
func (l *Layout) Partial(ctx context.Context, desc ocispec.Descriptor) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := validDigest(desc.Digest); err != nil {
		return 0, err
	}
	fi, err := os.Stat(l.stagePath(desc))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// PushFrom completes a staged blob: r holds desc's bytes from offset on,
// offset being what Partial reported. The staged prefix is cut to offset
// if it has grown since, hashed once, and the whole blob verified as Push
// does; on a mismatch the staged bytes are discarded and the error wraps a
// *content.MismatchError. A prefix shorter than offset is discarded too,
// with an error. When another process is writing the same blob, PushFrom
// fails without touching its staging file; the caller then starts over
// with Push, which writes a private copy. offset 0 is Push.
func (l *Layout) PushFrom(ctx context.Context, desc ocispec.Descriptor, offset int64, r io.Reader) error {
	if offset == 0 {
		return l.Push(ctx, desc, r)
	}
	if ok, err := l.Exists(ctx, desc); err != nil || ok {
		return err
	}
	if offset < 0 || desc.Size >= 0 && offset >= desc.Size || isManifest(desc) {
		return fmt.Errorf("cannot resume %s at byte %d: only blobs are staged, and only part way", desc.Digest, offset)
	}
	return l.write(ctx, desc, offset, r)
}

// write streams a blob into its staging file from offset on and commits
// it. offset 0 starts afresh.
func (l *Layout) write(ctx context.Context, desc ocispec.Descriptor, offset int64, r io.Reader) error {
	f, err := l.openStage(desc)
	if err != nil {
		return fmt.Errorf("write %s to OCI layout %s: %w", desc.Digest, l.dir, err)
	}
	if f == nil {
		if offset > 0 {
			return fmt.Errorf("write %s to OCI layout %s: another process is writing it; start over", desc.Digest, l.dir)
		}
		return l.writePrivate(ctx, desc, r)
	}
	defer f.Close() // after any rename or removal: releases the lock
	// The writer that held the lock before us may have finished the blob.
	if ok, err := l.Exists(ctx, desc); err != nil || ok {
		if ok {
			os.Remove(f.Name())
			l.tidy()
		}
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	switch {
	case fi.Size() < offset:
		os.Remove(f.Name())
		return fmt.Errorf("resume %s in OCI layout %s: %d bytes are staged, not the %d expected; discarded them, start over",
			desc.Digest, l.dir, fi.Size(), offset)
	case fi.Size() > offset:
		if err := f.Truncate(offset); err != nil {
			return err
		}
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return err
	}
	// The verifier sees the whole blob (the staged prefix, read back once,
	// then r); only what comes after the prefix is written. From the start,
	// it is r alone, which lets a verifying source spare it the hashing.
	var src io.Reader = blobio.ContextReader(ctx, r)
	if offset > 0 {
		src = io.MultiReader(io.NewSectionReader(f, 0, offset), src)
	}
	v, err := content.NewVerifier(src, desc)
	if err != nil {
		return err
	}
	if _, err := blobio.Copy(&skipWriter{w: f, skip: offset}, v); err != nil {
		if wrongContent(err) {
			os.Remove(f.Name())
			l.tidy()
		}
		return fmt.Errorf("write %s to OCI layout %s: %w", desc.Digest, l.dir, err)
	}
	return l.commit(f, desc)
}

// wrongContent reports whether a failed copy proved the staged bytes wrong
// (a digest mismatch, or more bytes than the descriptor says), so they must
// go. A stream that merely ended early, or broke, leaves a prefix that may
// well be right: it stays for PushFrom, which verifies the whole blob.
func wrongContent(err error) bool {
	var mm *content.MismatchError
	if !errors.As(err, &mm) {
		return false
	}
	return mm.GotDigest != "" || mm.GotSize > mm.Want.Size
}

// writePrivate writes a blob to a temporary file of its own, used when
// another writer holds the blob's staging file. Nothing of it survives a
// failure.
func (l *Layout) writePrivate(ctx context.Context, desc ocispec.Descriptor, r io.Reader) error {
	f, err := l.createTemp(desc)
	if err != nil {
		return err
	}
	defer f.Close()
	v, err := content.NewVerifier(blobio.ContextReader(ctx, r), desc)
	if err == nil {
		_, err = blobio.Copy(f, v)
	}
	if err == nil {
		err = l.commit(f, desc)
	}
	if err != nil {
		os.Remove(f.Name())
		l.tidy()
		return fmt.Errorf("write %s to OCI layout %s: %w", desc.Digest, l.dir, err)
	}
	l.dropStage(desc)
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
	return nil
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

// skipWriter drops the first skip bytes written to it: the staged prefix
// the verifier re-reads but that is already on disk.
type skipWriter struct {
	w    io.Writer
	skip int64
}

func (s *skipWriter) Write(p []byte) (int, error) {
	n := len(p)
	if s.skip > 0 {
		k := min(int64(len(p)), s.skip)
		s.skip -= k
		p = p[k:]
	}
	if len(p) > 0 {
		if _, err := s.w.Write(p); err != nil {
			return 0, err
		}
	}
	return n, nil
}
