package tarsum

import (
	"archive/tar"
	"io"
	"strconv"
)

// blockSize is the size of a tar header block.
const blockSize = 512

// Offsets in a tar header block.
const (
	chksumOff   = 148
	chksumLen   = 8
	typeflagOff = 156
)

// appendHeader appends the version 0 encoding of hdr's fields to b: each
// key immediately followed by its value, with no separator. typeflag is the
// raw byte from the archive, which may differ from hdr.Typeflag.
func appendHeader(b []byte, hdr *tar.Header, typeflag byte) []byte {
	b = append(b, "name"...)
	b = append(b, hdr.Name...)
	b = append(b, "mode"...)
	b = strconv.AppendInt(b, hdr.Mode, 10)
	b = append(b, "uid"...)
	b = strconv.AppendInt(b, int64(hdr.Uid), 10)
	b = append(b, "gid"...)
	b = strconv.AppendInt(b, int64(hdr.Gid), 10)
	b = append(b, "size"...)
	b = strconv.AppendInt(b, hdr.Size, 10)
	b = append(b, "mtime"...)
	b = strconv.AppendInt(b, hdr.ModTime.Unix(), 10)
	b = append(b, "typeflag"...)
	b = append(b, typeflag)
	b = append(b, "linkname"...)
	b = append(b, hdr.Linkname...)
	b = append(b, "uname"...)
	b = append(b, hdr.Uname...)
	b = append(b, "gname"...)
	b = append(b, hdr.Gname...)
	b = append(b, "devmajor"...)
	b = strconv.AppendInt(b, hdr.Devmajor, 10)
	b = append(b, "devminor"...)
	b = strconv.AppendInt(b, hdr.Devminor, 10)
	return b
}

// blockRecorder sits between the tar reader and the archive and remembers
// the last blockSize bytes the tar reader consumed. When tar.Reader.Next
// returns an ordinary entry, those bytes are the entry's raw header block:
// the reader reads nothing past the header before returning (it does not
// read ahead, and a blockRecorder is not an io.Seeker, so skipped bodies are
// read too).
//
// It exists because archive/tar rewrites the old regular-file typeflag 0x00
// (TypeRegA) to '0' or '5', while TarSum version 0 hashes the raw byte.
type blockRecorder struct {
	r    io.Reader
	last [blockSize]byte // the most recent bytes read, right-aligned
}

// Read reads from the underlying reader and records what it returned.
func (b *blockRecorder) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.record(p[:n])
	return n, err
}

func (b *blockRecorder) record(p []byte) {
	if len(p) >= blockSize {
		copy(b.last[:], p[len(p)-blockSize:])
		return
	}
	copy(b.last[:], b.last[len(p):])
	copy(b.last[blockSize-len(p):], p)
}

// typeflag returns the raw typeflag byte of hdr, the entry that the tar
// reader has just returned. archive/tar only ever turns 0x00 into TypeReg or
// TypeDir, so only those need a look at the raw block; and the block is
// trusted only if its checksum shows that it really is a header (for GNU
// sparse files in PAX format the reader has consumed more than the header).
func (b *blockRecorder) typeflag(hdr *tar.Header) byte {
	if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeDir {
		return hdr.Typeflag
	}
	if b.last[typeflagOff] == tar.TypeRegA && validChecksum(&b.last) {
		return tar.TypeRegA
	}
	return hdr.Typeflag
}

// validChecksum reports whether blk carries a correct tar header checksum:
// the sum of all its bytes with the checksum field counted as spaces,
// unsigned (POSIX) or signed (some historic tars).
func validChecksum(blk *[blockSize]byte) bool {
	want, ok := parseOctal(blk[chksumOff : chksumOff+chksumLen])
	if !ok {
		return false
	}
	var unsigned, signed int64
	for i, c := range blk {
		if i >= chksumOff && i < chksumOff+chksumLen {
			c = ' '
		}
		unsigned += int64(c)
		signed += int64(int8(c))
	}
	return want == unsigned || want == signed
}

// parseOctal parses a header number field: octal digits, optionally
// surrounded by spaces and terminated by NULs.
func parseOctal(f []byte) (int64, bool) {
	var v int64
	digits := 0
	for i, c := range f {
		switch {
		case c >= '0' && c <= '7':
			if digits > 0 && (f[i-1] == ' ' || f[i-1] == 0) {
				return 0, false // digits after a separator
			}
			v = v*8 + int64(c-'0')
			digits++
		case c == ' ' || c == 0:
		default:
			return 0, false
		}
	}
	return v, digits > 0
}
