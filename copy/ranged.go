package copy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/store"
)

// A blob of rangedMin bytes or more, from a source that serves sections
// (store.SectionReader) into a target that takes them at their offsets
// (store.SectionIngest), is fetched as bounded ranged requests: one
// section to start with, split further while the measured rate of a
// connection says splitting pays (below splitRate), no connection to the
// source was ever seen moving fastRate (a slow stretch there is a stall,
// not a cap), and the Copier's part connections allow. No section is
// smaller than sectionMin, nor is one started whose transfer would not
// take startCost times the time the blob's ranged answers took to start.
const (
	rangedMin     = 16 << 20
	sectionMin    = 4 << 20
	maxSections   = 8
	splitRate     = 50e6 // bytes per second on one connection
	fastRate      = 2 * splitRate
	startCost     = 4
	checkEvery    = 1 << 20 // bytes between two split checks of a section
	maxSectionErr = 2 * maxSections
	sectionBuf    = 32 << 10
	judgeAfter    = 2 // check windows a section moves before its rate is judged
)

var sectionBuffers = sync.Pool{New: func() any { b := make([]byte, sectionBuf); return &b }}

// errNoSections says the source ignores Range for this blob: the caller
// falls back to one stream.
var errNoSections = errors.New("the source does not serve sections")

// sectioned reports whether desc is fetched in sections from src.
func (c *Copier) sectioned(src store.Reader, desc ocispec.Descriptor) (store.SectionReader, bool) {
	sr, ok := src.(store.SectionReader)
	if !ok || desc.Size < rangedMin {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return sr, !c.unranged[src]
}

// noSections remembers that src ignores Range.
func (c *Copier) noSections(src store.Reader) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.unranged == nil {
		c.unranged = map[store.Reader]bool{}
	}
	c.unranged[src] = true
}

// sectionFetch is the ranged fetch of one blob into one ingest.
type sectionFetch struct {
	c    *Copier
	src  store.Reader
	sr   store.SectionReader
	in   store.SectionIngest
	desc ocispec.Descriptor
	st   *stats

	g    *errgroup.Group
	ctx  context.Context
	done atomic.Int64 // bytes held, for progress

	mu    sync.Mutex
	queue []store.Range // sections nobody fetches yet
	fails int
	ttfb  time.Duration // the slowest start of a ranged answer so far
}

// fetchSections fetches what in lacks of desc from sr, section by
// section, and commits in. It closes or aborts in as store.CopyIngest
// does. errNoSections, with in closed and nothing written, means the
// source answered the first section with the whole blob at an offset: the
// caller streams instead.
func (c *Copier) fetchSections(ctx context.Context, src store.Reader, sr store.SectionReader, in store.SectionIngest, desc ocispec.Descriptor, st *stats) error {
	f := &sectionFetch{c: c, src: src, sr: sr, in: in, desc: desc, st: st}
	missing := in.Missing(desc.Size)
	var have int64 = desc.Size
	for _, r := range missing {
		have -= r.Length
	}
	f.done.Store(have)
	c.o.events(Event{Kind: BlobStarted, Descriptor: desc, Bytes: have})
	g, gctx := errgroup.WithContext(ctx)
	f.g, f.ctx = g, gctx
	if len(missing) > 0 {
		f.queue = missing[1:]
		g.Go(func() error { return f.worker(missing[0], true, false) })
		// On a resume, the other gaps are known sections already: fetch
		// them beside the first where connections allow.
		for len(f.queue) > 0 && f.c.parts.tryAcquire() {
			r, _ := f.pop()
			g.Go(func() error { return f.worker(r, false, true) })
		}
	}
	if err := g.Wait(); err != nil {
		if store.ProvesWrong(err) {
			_ = in.Abort(ctx)
		} else {
			_ = in.Close()
		}
		return err
	}
	if _, err := in.Commit(ctx, desc.Size, desc.Digest); err != nil {
		_ = in.Close()
		return err
	}
	return in.Close()
}

func (f *sectionFetch) pop() (store.Range, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queue) == 0 {
		return store.Range{}, false
	}
	r := f.queue[0]
	f.queue = f.queue[1:]
	return r, true
}

func (f *sectionFetch) push(r store.Range) {
	f.mu.Lock()
	f.queue = append(f.queue, r)
	f.mu.Unlock()
}

// worker fetches r, then whatever the queue holds. lead is the blob's
// first section, on the transfer's own connection; token says the worker
// holds a part connection to give back.
func (f *sectionFetch) worker(r store.Range, lead, token bool) error {
	if token {
		defer f.c.parts.put()
	}
	for {
		if err := f.section(r, lead); err != nil {
			return err
		}
		lead = false
		var ok bool
		if r, ok = f.pop(); !ok {
			return nil
		}
	}
}

// section fetches r, asking again for what is left of it after a broken
// answer, and splitting what is left while that pays.
func (f *sectionFetch) section(r store.Range, lead bool) error {
	for r.Length > 0 {
		start := time.Now()
		rc, err := f.sr.FetchSection(f.ctx, f.desc, r.Offset, r.Length)
		if err != nil {
			if errors.Is(err, errdef.ErrUnsupported) {
				// A 200 to a ranged request: one stream from the prefix
				// it is, which the caller's Write path does.
				f.c.noSections(f.src)
				return errNoSections
			}
			if err := f.failed(err); err != nil {
				return err
			}
			continue
		}
		f.started(time.Since(start))
		split := true
		if u, ok := rc.(interface{ Unranged() bool }); ok && u.Unranged() {
			f.c.noSections(f.src) // one stream: it was asked for the whole blob
			split = false
		}
		got, err := f.copySection(rc, r, split)
		rc.Close()
		r = store.Range{Offset: r.Offset + got, Length: r.Length - got}
		if err == nil {
			return nil
		}
		if err := f.failed(err); err != nil {
			return err
		}
	}
	return nil
}

// copySection copies the answer for r into the ingest at its offsets,
// and returns how many bytes of r it wrote. With split, every checkEvery
// bytes it gives part of what is left to new workers when that pays; it
// then stops at the part it kept.
func (f *sectionFetch) copySection(rc io.Reader, r store.Range, split bool) (int64, error) {
	bp := sectionBuffers.Get().(*[]byte)
	defer sectionBuffers.Put(bp)
	buf := *bp
	end := r.End()
	at := r.Offset
	// Splitting pays only where the source connection sets the pace:
	// when the ingest (a spool's reader, the target's upload) keeps the
	// section waiting half the time or more, more connections to the
	// source cannot help.
	var writing time.Duration
	t0 := time.Now()
	next := at + checkEvery
	// A source that once served 2*checkEvery bytes at fastRate or faster
	// on one connection (Copier.notePeak) is not capped below splitRate,
	// and a slower stretch is a stall (other work on the CPU, a pause of
	// the source) that more connections would only add to. Two windows,
	// not one: the bytes that pile up in the socket during a stall come
	// out in one quick window after it. The first window of a section
	// holds its connection's ramp, so a section is judged from its
	// judgeAfter'th window on.
	var peak float64
	windows := 0
	marks := [2]struct { // the two last window ends
		t  time.Time
		at int64
	}{{t0, at}, {t0, at}}
	for at < end {
		n, err := rc.Read(buf[:min(int64(len(buf)), end-at)])
		if n > 0 {
			t := time.Now()
			_, werr := f.in.WriteAt(buf[:n], at)
			writing += time.Since(t)
			if werr != nil {
				return at - r.Offset, werr
			}
			at += int64(n)
			d := f.done.Add(int64(n))
			f.st.bytes.Add(int64(n))
			f.c.o.events(Event{Kind: BlobProgress, Descriptor: f.desc, Bytes: d})
		}
		if err == io.EOF && at < end {
			err = io.ErrUnexpectedEOF
		}
		if err != nil && err != io.EOF {
			return at - r.Offset, err
		}
		if split && at >= next && at < end {
			next = at + checkEvery
			now := time.Now()
			wall := now.Sub(t0)
			if windows++; windows >= 2 {
				peak = f.c.notePeak(f.src, float64(at-marks[0].at)/now.Sub(marks[0].t).Seconds())
			}
			marks[0] = marks[1]
			marks[1].t, marks[1].at = now, at
			if 2*writing < wall && windows >= judgeAfter && peak < fastRate {
				end = f.maybeSplit(at, end, float64(at-r.Offset)/wall.Seconds())
			}
		}
	}
	return at - r.Offset, nil
}

// maybeSplit gives part of [at, end) to new workers when the rate of this
// connection says splitting pays and part connections are free; it
// returns the end of what the caller keeps.
func (f *sectionFetch) maybeSplit(at, end int64, rate float64) int64 {
	left := end - at
	if rate >= splitRate || left < 2*sectionMin || f.ctx.Err() != nil {
		return end
	}
	f.mu.Lock()
	ttfb := f.ttfb
	f.mu.Unlock()
	k := min(int64(maxSections), left/sectionMin)
	// Each share must take startCost times as long as an answer takes to
	// start, or the starts eat what splitting wins.
	for k > 1 && float64(left)/float64(k)/rate < startCost*ttfb.Seconds() {
		k--
	}
	got := int64(0)
	for got < k-1 && f.c.parts.tryAcquire() {
		got++
	}
	if got == 0 {
		return end
	}
	k = got + 1
	share := left / k
	keep := at + share
	for i := int64(1); i < k; i++ {
		s := store.Range{Offset: at + i*share, Length: share}
		if i == k-1 {
			s.Length = end - s.Offset
		}
		f.g.Go(func() error { return f.worker(s, false, true) })
	}
	return keep
}

// notePeak records rate, one connection's rate over a check window, as
// the fastest of src when it is, and returns the fastest.
func (c *Copier) notePeak(src store.Reader, rate float64) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fastest == nil {
		c.fastest = map[store.Reader]float64{}
	}
	best := max(c.fastest[src], rate)
	c.fastest[src] = best
	return best
}

// started records how long a ranged answer took to start.
func (f *sectionFetch) started(d time.Duration) {
	f.mu.Lock()
	f.ttfb = max(f.ttfb, d)
	f.mu.Unlock()
}

// failed counts a failed section; it returns err when the blob should
// fail, nil when the section is worth asking for again.
func (f *sectionFetch) failed(err error) error {
	if errors.Is(err, errNoSections) {
		return err
	}
	f.mu.Lock()
	f.fails++
	n := f.fails
	f.mu.Unlock()
	if n > maxSectionErr || !worthAnotherTry(f.ctx, err) {
		return fmt.Errorf("fetching sections of %s: %w", describe(f.desc), err)
	}
	return nil
}
