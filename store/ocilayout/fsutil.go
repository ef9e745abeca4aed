package ocilayout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"github.com/hoist-dev/hoist/content"
)

// lockWait takes an exclusive flock on f, waiting for another holder to let
// go. It polls rather than blocking in the kernel so that ctx can end the
// wait.
func lockWait(ctx context.Context, f *os.File) error {
	delay := time.Millisecond
	for {
		ok, err := tryLock(f)
		if err != nil || ok {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if delay < 32*time.Millisecond {
			delay *= 2
		}
	}
}

// tryLock takes an exclusive flock on f if nobody holds one. Closing f
// releases it.
func tryLock(f *os.File) (bool, error) {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, unix.EINTR):
			continue
		}
		return false, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
}

// sameFile reports whether the open file f is still the file at its path:
// a writer that locked a staging file after another one renamed it away
// must not use it.
func sameFile(f *os.File) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(f.Name())
	if err != nil {
		return false
	}
	return os.SameFile(a, b)
}

// startWriteback asks the kernel to start writing f's dirty pages now,
// without waiting, so that a later fsync finds little left to do. Where
// the call is not supported it does nothing: the fsync still happens.
func startWriteback(f *os.File) {
	_ = unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}

// syncFile fsyncs the file at path.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// syncDir fsyncs a directory, so that a rename into it survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// createIn creates a file in dir (creating dir first), retrying if another
// process removes the emptied dir between the two steps.
func createIn(dir string, create func() (*os.File, error)) (*os.File, error) {
	for range 10 {
		// MkdirAll reports EEXIST when the directory vanishes between its
		// mkdir and its check; both that and ENOENT from create mean
		// another process's tidy won the race, so try again.
		if err := os.MkdirAll(dir, 0o755); err != nil {
			if errors.Is(err, os.ErrExist) {
				continue
			}
			return nil, err
		}
		f, err := create()
		if !errors.Is(err, os.ErrNotExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("create a file in %s: the directory keeps disappearing", dir)
}

// writeFileAtomic replaces path with data: a temporary file in tmpDir,
// fsync, rename, fsync of path's directory. A reader sees the old content
// or the new, never a mix.
func writeFileAtomic(tmpDir, path string, data []byte) error {
	f, err := createIn(tmpDir, func() (*os.File, error) {
		return os.CreateTemp(tmpDir, filepath.Base(path)+".*.tmp")
	})
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// ctxReader stops a copy when ctx ends, for sources (local files) that do
// not watch it themselves.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// VerifiedAgainst forwards the source's own verification (see
// content.Verifying), so a blob a verifying store hands over is hashed
// once, not twice.
func (c ctxReader) VerifiedAgainst() (ocispec.Descriptor, bool) {
	if v, ok := c.r.(content.Verifying); ok {
		return v.VerifiedAgainst()
	}
	return ocispec.Descriptor{}, false
}

// copyBufs holds the buffers blob copies use: larger than io.Copy's 32 KiB,
// so big blobs take fewer write calls.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// copyTo copies src to w with a pooled buffer, never through w's
// ReadFrom (which on a file would fall back to 32 KiB chunks).
func copyTo(w io.Writer, src io.Reader) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	return io.CopyBuffer(struct{ io.Writer }{w}, src, *bp)
}
