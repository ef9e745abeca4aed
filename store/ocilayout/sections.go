package ocilayout

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/blobio"
	"github.com/hoist-dev/hoist/store"
)

// recordSuffix ends the name of a staging file's section record: the
// ranges written into it out of order (WriteAt), so that a later Ingest
// of the same ref, in this process or another after a kill, knows which
// bytes it holds. A staging file with a record is described by it alone;
// without one, the file's length is its prefix, as before sections.
const recordSuffix = ".parts"

// recordFlush is how many bytes are written between two appends to the
// record: what a kill can make a rerun fetch again, per ingest.
const recordFlush = 4 << 20

// sections is the state of an ingest that took bytes at offsets.
type sections struct {
	mu      sync.Mutex
	held    []store.Range // written past the prefix, sorted and merged
	hashing bool          // a writer is extending the prefix
	rec     *os.File      // the record, appended to; nil for a private ingest
	unrec   []store.Range // written since the record was last appended to
	unrecN  int64
}

// recordPath is the record of the ingest ref.
func (l *Layout) recordPath(ref string) string {
	return strings.TrimSuffix(l.stagePath(ref), stageSuffix) + recordSuffix
}

// openRecord reads ref's record, if it has one, and sets the ingest's
// prefix and held ranges from it; ranges past the staging file's length
// (a record left beside a file that was replaced) are not held. It
// reports whether there was one.
func (in *ingest) openRecord(fileSize int64) (bool, error) {
	f, err := os.OpenFile(in.l.recordPath(in.ref), os.O_RDWR|os.O_APPEND, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var rs []store.Range
	sc := bufio.NewScanner(io.LimitReader(f, 16<<20))
	for sc.Scan() {
		var r store.Range
		if _, err := fmt.Sscanf(sc.Text(), "%d %d", &r.Offset, &r.Length); err != nil || r.Offset < 0 || r.Length <= 0 {
			break // a torn last line: what came before stands
		}
		if e := in.expected.Size; e >= 0 && r.End() > e || r.End() > fileSize {
			continue
		}
		rs = store.AddRange(rs, r)
	}
	in.sec = &sections{rec: f}
	in.offset = 0
	if len(rs) > 0 && rs[0].Offset == 0 {
		in.offset, rs = rs[0].End(), rs[1:]
	}
	in.sec.held = rs
	return true, nil
}

// ensureSections makes the ingest section-aware before its first WriteAt,
// creating its record first, so that no byte written out of order is
// ever taken for part of a prefix.
func (in *ingest) ensureSections() error {
	in.secOnce.Do(func() {
		if in.sec != nil {
			return
		}
		s := &sections{}
		if !in.private {
			f, err := os.OpenFile(in.l.recordPath(in.ref), os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
			if err != nil {
				in.secErr = err
				return
			}
			s.rec = f
			if in.offset > 0 {
				// The prefix staged before sections began.
				s.unrec, s.unrecN = []store.Range{{Offset: 0, Length: in.offset}}, recordFlush
			}
		}
		in.sec = s
	})
	return in.secErr
}

// WriteAt writes p at off (store.SectionIngest). Calls for ranges that do
// not overlap may run at once. A write that reaches the prefix extends
// it, hashing in order, and takes in the written ranges it then meets.
func (in *ingest) WriteAt(p []byte, off int64) (int, error) {
	if err := in.writable(); err != nil {
		return 0, err
	}
	e := in.expected
	if e.Digest == "" || e.Size < 0 {
		return 0, fmt.Errorf("ingest %s: writing at offsets needs the expected digest and size (store.IngestOptions.Expected)", in.ref)
	}
	if off < 0 || off+int64(len(p)) > e.Size {
		return 0, &content.MismatchError{Want: e, GotSize: off + int64(len(p))}
	}
	if err := in.ensureSections(); err != nil {
		return 0, err
	}
	s := in.sec
	s.mu.Lock()
	below := off < in.offset
	s.mu.Unlock()
	if below {
		return 0, fmt.Errorf("ingest %s: bytes at %d are already held (the prefix reaches %d)", in.ref, off, in.offset)
	}
	in.wmu.Lock()
	n, err := in.f.WriteAt(p, off)
	in.wmu.Unlock()
	if n > 0 {
		if herr := in.wrote(p[:n], off); err == nil {
			err = herr
		}
		in.writeback()
	}
	return n, err
}

// writeback starts the writeback of the prefix written since the last
// time, once that is writebackEvery bytes or more.
func (in *ingest) writeback() {
	s := in.sec
	s.mu.Lock()
	to := in.offset
	from, ok := in.writebackDue(to)
	s.mu.Unlock()
	if ok {
		startWritebackRange(in.f, from, to-from)
	}
}

// wrote records that p was written at off, and extends the prefix when
// it can.
func (in *ingest) wrote(p []byte, off int64) error {
	s := in.sec
	n := int64(len(p))
	s.mu.Lock()
	s.unrec = store.AddRange(s.unrec, store.Range{Offset: off, Length: n})
	s.unrecN += n
	var err error
	if s.unrecN >= recordFlush {
		err = s.flush()
	}
	if off != in.offset || s.hashing {
		s.held = store.AddRange(s.held, store.Range{Offset: off, Length: n})
		s.mu.Unlock()
		return err
	}
	s.hashing = true
	s.mu.Unlock()
	herr := in.ensureHash()
	if herr == nil {
		in.h.Write(p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() { s.hashing = false }()
	if herr != nil {
		return herr
	}
	in.offset += n
	for len(s.held) > 0 && s.held[0].Offset <= in.offset {
		r := s.held[0]
		s.held = s.held[1:]
		if r.End() <= in.offset {
			continue
		}
		from := in.offset
		s.mu.Unlock()
		_, herr = blobio.Copy(in.h, blobio.ContextReader(in.ctx, io.NewSectionReader(in.f, from, r.End()-from)))
		s.mu.Lock()
		if herr != nil {
			s.held = store.AddRange(s.held, store.Range{Offset: from, Length: r.End() - from})
			return fmt.Errorf("ingest %s: reading back bytes %d-%d: %w", in.ref, from, r.End(), herr)
		}
		in.offset = r.End()
	}
	return err
}

// flush appends the ranges written since the last flush to the record.
// s.mu is held.
func (s *sections) flush() error {
	if s.rec == nil || len(s.unrec) == 0 {
		s.unrec, s.unrecN = s.unrec[:0], 0
		return nil
	}
	var b strings.Builder
	for _, r := range s.unrec {
		fmt.Fprintf(&b, "%d %d\n", r.Offset, r.Length)
	}
	s.unrec, s.unrecN = s.unrec[:0], 0
	_, err := s.rec.WriteString(b.String())
	return err
}

// Missing returns the ranges of [0, size) the ingest does not hold
// (store.SectionIngest).
func (in *ingest) Missing(size int64) []store.Range {
	var held []store.Range
	off := in.offset
	if s := in.sec; s != nil {
		s.mu.Lock()
		off = in.offset
		held = append(held, s.held...)
		s.mu.Unlock()
	}
	var out []store.Range
	at := off
	for _, r := range held {
		if r.Offset > at {
			out = append(out, store.Range{Offset: at, Length: min(r.Offset, size) - at})
		}
		at = max(at, r.End())
		if at >= size {
			break
		}
	}
	if at < size {
		out = append(out, store.Range{Offset: at, Length: size - at})
	}
	return out
}

// closeRecord appends what is unrecorded and closes the record (Close).
func (in *ingest) closeRecord() {
	if s := in.sec; s != nil && s.rec != nil {
		s.mu.Lock()
		s.flush()
		s.mu.Unlock()
		s.rec.Close()
	}
}

// dropRecord removes the record (Commit, Abort).
func (in *ingest) dropRecord() {
	if s := in.sec; s != nil && s.rec != nil {
		s.rec.Close()
	}
	if !in.private {
		os.Remove(in.l.recordPath(in.ref))
	}
	in.sec = nil
}
