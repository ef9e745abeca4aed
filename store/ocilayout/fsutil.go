package ocilayout

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hoist-dev/hoist/internal/atomicfile"
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
func startWriteback(f *os.File) { startWritebackRange(f, 0, 0) }

// writebackEvery is how many bytes a blob being written gains before
// their writeback is started (startWritebackRange): as the data streams,
// so that the fsync before a tag finds little left to flush, in pieces
// large enough that the calls cost nothing beside the writes.
const writebackEvery = 8 << 20

// startWritebackRange is startWriteback for the n bytes of f at off (n 0:
// to the end of the file).
func startWritebackRange(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}

// createIn creates a file in the layout's scratch directory dir, which
// another process may tidy away meanwhile (see atomicfile.CreateIn).
func createIn(dir string, create func() (*os.File, error)) (*os.File, error) {
	return atomicfile.CreateIn(dir, create)
}

// writeFileAtomic replaces path with data through a temporary file in
// tmpDir (see atomicfile.WriteFile): a reader sees the old content or the
// new, never a mix.
func writeFileAtomic(tmpDir, path string, data []byte) error {
	return atomicfile.WriteFile(path, data, 0o644, atomicfile.WithTempDir(tmpDir))
}
