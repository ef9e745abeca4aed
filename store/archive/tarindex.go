package archive

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// member is a regular file inside the tar: where its bytes start and how
// many there are.
type member struct {
	off, size int64
}

// indexTar reads every header of the tar in f once and returns its regular
// files by cleaned name, symlinks and hard links resolved to the file they
// lead to (docker save links duplicate layers to the first copy). File
// data is skipped by seeking, not read.
func indexTar(ctx context.Context, f *os.File) (map[string]member, error) {
	files := map[string]member{}
	links := map[string]string{}
	tr := tar.NewReader(f)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s is not a readable tar archive: %w", f.Name(), err)
		}
		if why := outside(h.Name); why != "" {
			return nil, fmt.Errorf("%s: member %q %s; refusing an archive that names files outside itself", f.Name(), h.Name, why)
		}
		name := cleanName(h.Name)
		switch h.Typeflag {
		case tar.TypeReg: // the reader reports old '\x00' entries as TypeReg too
			if isSparse(h) {
				return nil, fmt.Errorf("%s: member %s is a sparse file, which docker archives never hold", f.Name(), h.Name)
			}
			// tar.Reader reads headers in whole blocks and no further, so
			// the file position is where this member's data begins.
			off, err := f.Seek(0, io.SeekCurrent)
			if err != nil {
				return nil, err
			}
			files[name] = member{off: off, size: h.Size}
		case tar.TypeGNUSparse:
			return nil, fmt.Errorf("%s: member %s is a sparse file, which docker archives never hold", f.Name(), h.Name)
		case tar.TypeSymlink:
			target := h.Linkname
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(name), target)
			}
			if why := outside(target); why != "" {
				return nil, fmt.Errorf("%s: symlink %q leads to %q, which %s; refusing an archive that links outside itself", f.Name(), h.Name, h.Linkname, why)
			}
			links[name] = cleanName(target)
		case tar.TypeLink:
			if why := outside(h.Linkname); why != "" {
				return nil, fmt.Errorf("%s: hard link %q leads to %q, which %s; refusing an archive that links outside itself", f.Name(), h.Name, h.Linkname, why)
			}
			links[name] = cleanName(h.Linkname)
		}
	}
	for name, target := range links {
		for hops := 0; ; hops++ {
			if m, ok := files[target]; ok {
				files[name] = m
				break
			}
			next, ok := links[target]
			if !ok || hops > 16 {
				break // a dangling link: a reader that needs it says so
			}
			target = next
		}
	}
	return files, nil
}

// outside says why name, a member name or link target relative to the top
// of the archive, would lead out of it: "is absolute" or "climbs out with
// \"..\"". It returns "" for a name that stays inside ("./a", "a/../b").
// docker load refuses the same names; hoist never uses them as paths, but
// an archive that holds them was not written by docker save.
func outside(name string) string {
	switch clean := path.Clean(name); {
	case path.IsAbs(name):
		return "is absolute"
	case clean == ".." || strings.HasPrefix(clean, "../"):
		return `climbs out with ".."`
	}
	return ""
}

// isSparse reports a PAX sparse file, whose stored bytes are not its
// content.
func isSparse(h *tar.Header) bool {
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}
