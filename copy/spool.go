package copy

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
)

// spool lets a target that takes a blob only in order (a registry's
// upload, a tar archive) receive a blob fetched in parallel sections. It
// is the store.SectionIngest the sections are fetched into, and the
// io.Reader the target's ingest reads the blob from, in order:
//
//   - bytes written at the contiguous prefix are handed to the reader
//     directly, the writer waiting until it took them, as a pipe would:
//     a blob that is never split never touches the disk;
//   - bytes written past the prefix (a section split off because the
//     measured rate of a connection said the split pays, see maybeSplit)
//     wait in an unlinked temporary file (spoolDir), which a kill leaves
//     nothing of, until the prefix reaches them and the reader reads them
//     back.
//
// The reader hashes every byte in order and returns io.EOF only once the
// blob matched its descriptor; on a mismatch it fails with a
// content.MismatchError instead, before the target's ingest is told the
// blob is complete, so the target never commits unverified bytes.
type spool struct {
	desc ocispec.Descriptor

	mu      sync.Mutex
	cond    *sync.Cond
	file    *os.File      // created at the first write past the prefix
	prefix  int64         // bytes [0, prefix) are readable, in order
	held    []store.Range // in the file, past the prefix: sorted, merged
	hand    []byte        // bytes at the prefix, offered by a writer
	handOff int64         // where hand starts (the prefix)
	read    int64         // the reader's position
	err     error         // sticky: the fetch failed or the reader stopped

	h       hash.Hash // the reader's, in order
	verdict error     // the reader's mismatch, once it reached the end

	// wmu serializes the writes to file. The kernel serializes buffered
	// writes to one file anyway (the inode lock); waiting here parks the
	// section's goroutine, where waiting there holds an OS thread.
	wmu sync.Mutex
}

func newSpool(desc ocispec.Descriptor) (*spool, error) {
	if err := desc.Digest.Validate(); err != nil {
		return nil, err
	}
	s := &spool{desc: desc, h: desc.Digest.Algorithm().Hash()}
	s.cond = sync.NewCond(&s.mu)
	return s, nil
}

// errSpoolStopped ends the writers of a spool whose reader stopped.
var errSpoolStopped = errors.New("the target stopped reading the spooled blob")

// stop ends the spool with err (the fetch's failure, or errSpoolStopped
// when the target stopped reading): blocked writers and the reader
// return. The first error stands.
func (s *spool) stop(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.cond.Broadcast()
}

// release closes the temporary file; the spool is not used after.
func (s *spool) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file != nil {
		s.file.Close()
		s.file = nil
	}
}

// Ref, Offset, Write, Commit, Abort and Close make the spool the
// store.Ingest fetchSections fills.

func (s *spool) Ref() string { return "spool " + s.desc.Digest.String() }

func (s *spool) Offset() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.prefix
}

func (s *spool) Write(p []byte) (int, error) {
	return s.WriteAt(p, s.Offset())
}

// Commit reports whether the spool holds the whole blob; the reader
// verifies it.
func (s *spool) Commit(_ context.Context, size int64, _ digest.Digest) (ocispec.Descriptor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return ocispec.Descriptor{}, s.err
	}
	if s.prefix != size || size != s.desc.Size {
		return ocispec.Descriptor{}, fmt.Errorf("spool of %s: %d of %d bytes held", s.desc.Digest, s.prefix, s.desc.Size)
	}
	return s.desc, nil
}

func (s *spool) Abort(context.Context) error { return nil }

func (s *spool) Close() error { return nil }

// WriteAt takes p at off (store.SectionIngest): at the prefix it is
// handed to the reader, past it written to the temporary file.
func (s *spool) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > s.desc.Size {
		return 0, &content.MismatchError{Want: s.desc, GotSize: off + int64(len(p))}
	}
	s.mu.Lock()
	if s.err != nil {
		defer s.mu.Unlock()
		return 0, s.err
	}
	if off < s.prefix {
		defer s.mu.Unlock()
		return 0, fmt.Errorf("spool of %s: bytes at %d are already held (the prefix reaches %d)", s.desc.Digest, off, s.prefix)
	}
	if off == s.prefix {
		return s.handOver(p, off)
	}
	f, err := s.openFile()
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	s.wmu.Lock() // see wmu
	n, err := f.WriteAt(p, off)
	s.wmu.Unlock()
	if err != nil {
		err = fmt.Errorf("spooling %s in %s: %w (TMPDIR chooses the directory)", s.desc.Digest, filepath.Dir(f.Name()), err)
	}
	if n > 0 {
		s.mu.Lock()
		s.hold(store.Range{Offset: off, Length: int64(n)})
		s.extend()
		s.mu.Unlock()
		s.cond.Broadcast()
	}
	return n, err
}

// handOver offers p, at the prefix, to the reader and waits until it took
// all of it. s.mu is held, and released on return.
func (s *spool) handOver(p []byte, off int64) (int, error) {
	defer s.mu.Unlock()
	s.hand, s.handOff = p, off
	s.cond.Broadcast()
	for len(s.hand) > 0 && s.err == nil {
		s.cond.Wait()
	}
	n := len(p) - len(s.hand)
	s.hand = nil
	if n < len(p) {
		return n, s.err
	}
	return n, nil
}

// openFile returns the temporary file, creating it unlinked. s.mu is held.
func (s *spool) openFile() (*os.File, error) {
	if s.file != nil {
		return s.file, nil
	}
	f, err := os.CreateTemp(spoolDir(), "hoist-spool-*")
	if err != nil {
		return nil, fmt.Errorf("spooling %s: %w (TMPDIR chooses the directory)", s.desc.Digest, err)
	}
	os.Remove(f.Name()) // the open file is all there is: a kill leaves nothing
	s.file = f
	return f, nil
}

// hold adds r, just written to the file, to the held ranges, keeping
// them sorted and merging those that touch. s.mu is held.
func (s *spool) hold(r store.Range) { s.held = store.AddRange(s.held, r) }

// spoolDir is where spool files go: $TMPDIR when set, else /var/tmp
// (as containers/image puts big temporary files: /tmp is often a tmpfs,
// whose pages are memory), else the system's temporary directory.
func spoolDir() string {
	if os.Getenv("TMPDIR") != "" {
		return os.TempDir()
	}
	if fi, err := os.Stat("/var/tmp"); err == nil && fi.IsDir() {
		return "/var/tmp"
	}
	return os.TempDir()
}

// extend moves the prefix over the held ranges it now reaches. s.mu is
// held.
func (s *spool) extend() {
	for len(s.held) > 0 && s.held[0].Offset <= s.prefix {
		s.prefix = max(s.prefix, s.held[0].End())
		s.held = s.held[1:]
	}
}

// Missing returns the ranges of [0, size) not yet held (store.SectionIngest).
func (s *spool) Missing(size int64) []store.Range {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Range
	at := s.prefix
	for _, r := range s.held {
		if r.Offset > at {
			out = append(out, store.Range{Offset: at, Length: r.Offset - at})
		}
		at = max(at, r.End())
	}
	if at < size {
		out = append(out, store.Range{Offset: at, Length: size - at})
	}
	return out
}

// reader is the spool read in order, for the target's ingest.
func (s *spool) reader() io.Reader { return spoolReader{s} }

type spoolReader struct{ s *spool }

// VerifiedAgainst says the reader checks the blob itself
// (content.Verifying), so the target need not hash it again.
func (r spoolReader) VerifiedAgainst() (ocispec.Descriptor, bool) { return r.s.desc, true }

func (r spoolReader) Read(p []byte) (int, error) { return r.s.readAt(p) }

// readAt returns the next bytes in order: from the file while the
// reader is behind the prefix, else what a writer hands over, waiting
// for either.
func (s *spool) readAt(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		switch {
		case s.verdict != nil:
			return 0, s.verdict
		case s.read == s.desc.Size:
			return 0, s.verify()
		case s.read < s.prefix:
			f := s.file
			n := int(min(int64(len(p)), s.prefix-s.read))
			at := s.read
			s.mu.Unlock()
			n, err := f.ReadAt(p[:n], at)
			s.mu.Lock()
			if n > 0 {
				s.h.Write(p[:n])
				s.read += int64(n)
				return n, nil
			}
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, fmt.Errorf("reading back spooled bytes of %s at %d: %w", s.desc.Digest, at, err)
		case len(s.hand) > 0 && s.handOff == s.read:
			n := copy(p, s.hand)
			s.h.Write(p[:n])
			s.hand = s.hand[n:]
			s.handOff += int64(n)
			s.read += int64(n)
			s.prefix = s.read
			s.extend()
			s.cond.Broadcast()
			return n, nil
		case s.err != nil:
			return 0, s.err
		}
		s.cond.Wait()
	}
}

// verify checks the whole blob once the reader reached its end. s.mu is
// held.
func (s *spool) verify() error {
	got := digest.NewDigestFromBytes(s.desc.Digest.Algorithm(), s.h.Sum(nil))
	if got != s.desc.Digest {
		s.verdict = &content.MismatchError{Want: s.desc, GotSize: s.read, GotDigest: got}
		return s.verdict
	}
	return io.EOF
}

// spoolSections copies desc from sr into the target ingest in, which
// takes bytes only in order, through a spool: the sections are fetched
// into it while in reads it. It ends in as store.CopyIngest does.
// errNoSections, with in closed and no byte of the blob sent, means the
// source answered with the whole blob: the caller streams instead.
func (c *Copier) spoolSections(ctx context.Context, src store.Reader, sr store.SectionReader, in store.Ingest, desc ocispec.Descriptor, st *stats) error {
	sp, err := newSpool(desc)
	if err != nil {
		in.Close()
		return err
	}
	defer sp.release()
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fetched := make(chan error, 1)
	go func() {
		err := c.fetchSections(fctx, src, sr, sp, desc, st)
		if err != nil {
			sp.stop(err)
		}
		fetched <- err
	}()
	err = store.CopyIngest(ctx, in, desc, sp.reader())
	sp.stop(errSpoolStopped)
	cancel()
	ferr := <-fetched
	if errors.Is(ferr, errNoSections) {
		return errNoSections
	}
	if err != nil && ferr != nil && !errors.Is(ferr, errSpoolStopped) && !errors.Is(ferr, context.Canceled) {
		return ferr // the fetch's failure says more than the target's
	}
	return err
}

// spoolable reports whether desc, going into an ingest that takes bytes
// only in order, is fetched in sections through a spool: when the source
// serves sections (sectioned) and the target has nothing of it yet.
func spoolable(in store.Ingest) bool {
	_, sections := in.(store.SectionIngest)
	return !sections && in.Offset() == 0
}

var _ store.SectionIngest = (*spool)(nil)
