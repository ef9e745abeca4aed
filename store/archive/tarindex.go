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
			links[name] = cleanName(target)
		case tar.TypeLink:
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
