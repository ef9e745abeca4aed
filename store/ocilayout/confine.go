package ocilayout

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// noFollow makes the final open fail on a symlink swapped in after Lstat.
const noFollow = unix.O_NOFOLLOW

// errOutside marks a layout entry that is not a regular file of the
// layout's own: a symlink (wherever it points), a device, a FIFO, or a
// path that leads out of the directory through a symlinked parent.
var errOutside = errors.New("not a regular file inside the layout")

// openInside opens the regular file rel (a slash path such as
// "blobs/sha256/HEX") of the layout for reading, through an os.Root of
// the layout's directory: no symlink, parent or final, may lead out of it,
// and the file itself must not be a symlink at all. A blob that is a
// symlink could stream a file from anywhere on the machine to a registry,
// so it is refused before a byte is read. A missing file is fs.ErrNotExist.
func (l *Layout) openInside(rel string) (*os.File, error) {
	root, err := os.OpenRoot(l.dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	name := filepath.FromSlash(rel)
	fi, err := root.Lstat(name)
	if err != nil {
		return nil, l.insideErr(rel, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, l.refuse(rel, fi)
	}
	f, err := root.OpenFile(name, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return nil, l.insideErr(rel, err)
	}
	// The entry may have been swapped between Lstat and open.
	if fi2, err := f.Stat(); err != nil || !os.SameFile(fi, fi2) {
		f.Close()
		return nil, fmt.Errorf("OCI layout %s: %s changed while it was opened: %w", l.dir, rel, errOutside)
	}
	return f, nil
}

// statInside is Lstat of rel through an os.Root of the layout: a symlink
// is reported as itself, never as what it points to.
func (l *Layout) statInside(rel string) (fs.FileInfo, error) {
	root, err := os.OpenRoot(l.dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	fi, err := root.Lstat(filepath.FromSlash(rel))
	if err != nil {
		return nil, l.insideErr(rel, err)
	}
	return fi, nil
}

func (l *Layout) refuse(rel string, fi fs.FileInfo) error {
	what := "a " + fi.Mode().Type().String() + " entry"
	if fi.Mode()&fs.ModeSymlink != 0 {
		what = "a symlink"
	}
	return fmt.Errorf("OCI layout %s: %s is %s, %w; hoist reads only regular files inside the layout (replace it with the file's content)", l.dir, rel, what, errOutside)
}

// insideErr keeps fs.ErrNotExist matchable and says what an escape
// through a symlinked parent directory is.
func (l *Layout) insideErr(rel string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Err.Error() == "path escapes from parent" {
		return fmt.Errorf("OCI layout %s: %s leads outside the layout through a symlink, %w", l.dir, rel, errOutside)
	}
	return fmt.Errorf("OCI layout %s: %w", l.dir, err)
}
