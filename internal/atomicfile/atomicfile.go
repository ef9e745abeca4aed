package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Option configures Create and WriteFile.
type Option func(*options)

type options struct {
	tempDir string
}

// WithTempDir puts the temporary file in dir instead of the target's
// directory. dir must be on the target's file system (a rename cannot
// cross one); it is created when missing, and a dir that another process
// removes while it is empty (a layout's scratch directory) is created
// again.
func WithTempDir(dir string) Option { return func(o *options) { o.tempDir = dir } }

// File is a file being written that appears at its path only on Commit.
// It is an *os.File open on the temporary file: write, seek and truncate
// it as any file. It is not safe for concurrent use.
type File struct {
	*os.File
	path string
	perm fs.FileMode
	done bool
}

// Create starts replacing path: the returned File is a new, empty
// temporary file, named after path's base name and hidden (a leading dot)
// when it is beside path. perm is the mode the file has once committed.
func Create(path string, perm fs.FileMode, opts ...Option) (*File, error) {
	o := options{tempDir: filepath.Dir(path)}
	for _, f := range opts {
		f(&o)
	}
	pattern := filepath.Base(path) + ".*.tmp"
	if o.tempDir == filepath.Dir(path) {
		pattern = "." + pattern
	}
	f, err := CreateIn(o.tempDir, func() (*os.File, error) { return os.CreateTemp(o.tempDir, pattern) })
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &File{File: f, path: path, perm: perm}, nil
}

// Path returns the path the file replaces on Commit.
func (f *File) Path() string { return f.path }

// Commit makes what was written the file at Path: fsync, close, chmod,
// rename, fsync of the directory. On error the temporary file is removed
// and the target is as it was, unless only the directory's fsync failed
// (the error says so). Commit and Abort may each be called once; later
// calls do nothing.
func (f *File) Commit() error {
	if f.done {
		return nil
	}
	f.done = true
	tmp := f.Name()
	err := f.Sync()
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, f.perm)
	}
	if err == nil {
		err = os.Rename(tmp, f.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return SyncDir(filepath.Dir(f.path))
}

// Abort removes the temporary file and leaves the target as it was. It is
// safe to call after Commit, when it does nothing, so callers can defer it.
func (f *File) Abort() error {
	if f.done {
		return nil
	}
	f.done = true
	f.File.Close()
	if err := os.Remove(f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Close is Abort: a File not committed leaves nothing behind.
func (f *File) Close() error { return f.Abort() }

// WriteFile replaces path with data, mode perm (see Create and Commit).
func WriteFile(path string, data []byte, perm fs.FileMode, opts ...Option) error {
	f, err := Create(path, perm, opts...)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}

// SyncDir fsyncs the directory dir, so that a rename into it survives a
// crash. File systems that cannot sync a directory (EINVAL) are not an
// error.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// SyncFile fsyncs the file at path.
func SyncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// CreateIn creates a file in dir with create, making dir first. When
// another process removes dir between the two (it tidies away an empty
// scratch directory), both are tried again, a few times.
func CreateIn(dir string, create func() (*os.File, error)) (*os.File, error) {
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
