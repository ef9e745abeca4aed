package store

import (
	"context"
	"io"
	"slices"
	"sort"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// SectionReader is a Reader that can read a bounded section of a blob,
// one request per section, so that the sections of one large blob can be
// fetched side by side (a registry answers Range: bytes=a-b with 206).
type SectionReader interface {
	// FetchSection returns bytes [offset, offset+n) of blob desc: exactly
	// n bytes, or an error from Read (a section cut short is an error,
	// never an early io.EOF). They are NOT verified (see RangeReader): the
	// writer that assembles them verifies the whole blob. A source that
	// cannot serve sections, such as a registry that answered a ranged
	// request with the whole blob, fails with an error matching
	// errdef.ErrUnsupported, before any byte is read; asked for the whole
	// blob (offset 0, n its size), such a source may send it, and the
	// reader then has a method Unranged() bool that reports true.
	FetchSection(ctx context.Context, desc ocispec.Descriptor, offset, n int64) (io.ReadCloser, error)
}

// Range is a byte range [Offset, Offset+Length) of a blob.
type Range struct {
	Offset, Length int64
}

// End is the offset just past the range.
func (r Range) End() int64 { return r.Offset + r.Length }

// AddRange adds r to rs, which is sorted by offset with no two ranges
// touching, and returns the result in the same form: r merged with every
// range it touches or overlaps. It reuses rs's array (a ranged fetch adds
// one range per read, so a copy per call would be most of its garbage);
// callers must not keep other slices of it.
func AddRange(rs []Range, r Range) []Range {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].End() >= r.Offset })
	j := i
	for j < len(rs) && rs[j].Offset <= r.End() {
		lo := min(rs[j].Offset, r.Offset)
		r = Range{Offset: lo, Length: max(rs[j].End(), r.End()) - lo}
		j++
	}
	return slices.Replace(rs, i, j, r)
}

// SectionIngest is an Ingest that also takes bytes out of order: the
// sections of a blob written at their offsets as parallel ranged fetches
// deliver them (WriteAt, as io.WriterAt: calls for ranges that do not
// overlap may run at once, from many goroutines, unlike the rest of
// Ingest).
//
// Offset keeps its meaning: the contiguous prefix from byte 0 the ingest
// holds, hashed in order as it grows, so memory stays bounded and the
// blob is verified once, at Commit. Bytes written past Offset wait in the
// store's staging space, invisible as content; like the prefix they
// survive Close (and a killed process), for a later Ingest of the same ref
// to report them as no longer Missing. Write appends at Offset as for any
// Ingest.
type SectionIngest interface {
	Ingest
	// WriteAt writes p at offset off of the blob (off >= 0; bytes past
	// the expected size are an error matching errdef.ErrSizeMismatch).
	// Bytes that reach a written range extend Offset.
	WriteAt(p []byte, off int64) (int, error)
	// Missing returns, in order, the ranges of [0, size) the ingest does
	// not hold: what is left to fetch of a blob of size bytes.
	Missing(size int64) []Range
}
