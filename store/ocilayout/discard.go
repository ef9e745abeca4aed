package ocilayout

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Abort abandons a write that failed (store.Aborter). A layout keeps
// what arrived, so that running the copy again resumes it; only a layout
// this Layout created (Create found no directory there) that
// received nothing, no blob in blobs/ and no staged byte, is removed
// again, so a pull that failed before any content arrived (a missing
// tag, a refused login) leaves no directory behind. Another process
// writing the same layout keeps it: the check runs under the layout's
// lock, and sees that writer's staging files.
func (l *Layout) Abort(ctx context.Context) error {
	if !l.created {
		return nil
	}
	d, err := os.Open(l.dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	if ok, err := tryLock(d); err != nil || !ok {
		return nil // someone else is creating or using it
	}
	if !l.untouched() {
		return nil
	}
	return os.RemoveAll(l.dir)
}

// untouched reports whether the layout holds only what Create wrote: no
// tag, no blob, no staging file.
func (l *Layout) untouched() bool {
	names, err := os.ReadDir(l.dir)
	if err != nil {
		return false
	}
	for _, e := range names {
		switch e.Name() {
		case layoutFile, indexFile, blobsDir:
		case tmpDirName:
			if tmp, err := os.ReadDir(l.tmpDir()); err != nil || len(tmp) > 0 {
				return false
			}
		default:
			return false
		}
	}
	ix, err := l.readIndex()
	if err != nil || len(ix.entries) > 0 {
		return false
	}
	empty := true
	filepath.WalkDir(filepath.Join(l.dir, blobsDir), func(_ string, e fs.DirEntry, err error) error {
		if err != nil || !e.IsDir() {
			empty = false
			return fs.SkipAll
		}
		return nil
	})
	return empty
}

// Staged returns the layout's staging directory and how many bytes of
// partial blobs it holds, which a copy run again resumes from. A layout
// with nothing staged returns 0 (the directory may not exist then).
func (l *Layout) Staged() (dir string, bytes int64) {
	dir = l.tmpDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return dir, 0
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".partial") {
			continue
		}
		if fi, err := e.Info(); err == nil {
			bytes += fi.Size()
		}
	}
	return dir, bytes
}
