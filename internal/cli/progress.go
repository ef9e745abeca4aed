package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/copy"
)

// progress renders copy events on stderr: bars on a terminal, one line per
// finished blob otherwise, nothing with -q or --json. It is the only place
// that knows how progress looks; the engine only emits events.
type progress struct {
	mode int // progressNone, progressLines, progressBars
	w    io.Writer

	mu    sync.Mutex
	seen  map[digest.Digest]bool // blobs already finished, so shared ones count once
	start map[digest.Digest]time.Time
	p     *mpb.Progress
	total *mpb.Bar
	bars  map[digest.Digest]*mpb.Bar
	last  map[digest.Digest]time.Time
	// planned is the bytes of every Planned event so far: --all-tags plans
	// one graph per tag, and the total bar grows with each.
	planned int64
}

const (
	progressNone = iota
	progressLines
	progressBars
)

func (a *App) newProgress() *progress {
	pr := &progress{w: a.stderr, seen: map[digest.Digest]bool{}, start: map[digest.Digest]time.Time{},
		bars: map[digest.Digest]*mpb.Bar{}, last: map[digest.Digest]time.Time{}}
	switch {
	case a.quiet || a.jsonOut:
		pr.mode = progressNone
	case isTerminal(a.stderr):
		pr.mode = progressBars
		pr.p = mpb.New(mpb.WithOutput(a.stderr), mpb.WithWidth(40), mpb.WithRefreshRate(150*time.Millisecond))
	default:
		pr.mode = progressLines
	}
	return pr
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// event is the copy engine's callback.
func (pr *progress) event(e copy.Event) {
	if pr.mode == progressNone {
		return
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	d := e.Descriptor
	switch e.Kind {
	case copy.Planned:
		if pr.mode == progressBars {
			if pr.total == nil {
				pr.total = pr.p.New(0, mpb.BarStyle(), mpb.BarPriority(1<<30),
					mpb.PrependDecorators(decor.Name("total", decor.WCSyncSpaceR), decor.CountersKibiByte("% .1f / % .1f", decor.WCSyncSpace)),
					mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), "% .1f", decor.WCSyncSpace), decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO)))
			}
			pr.planned += e.Bytes
			pr.total.SetTotal(pr.planned, false)
		}
	case copy.BlobStarted:
		pr.start[d.Digest] = time.Now()
		if pr.mode == progressBars && pr.bars[d.Digest] == nil {
			b := pr.p.New(d.Size, mpb.BarStyle(), mpb.BarRemoveOnComplete(),
				mpb.PrependDecorators(decor.Name(short(d.Digest), decor.WCSyncSpaceR), decor.CountersKibiByte("% .1f / % .1f", decor.WCSyncSpace)),
				mpb.AppendDecorators(decor.EwmaSpeed(decor.SizeB1024(0), "% .1f", 30, decor.WCSyncSpace), decor.Name(" ETA "), decor.EwmaETA(decor.ET_STYLE_GO, 30)))
			b.SetCurrent(e.Bytes)
			if pr.total != nil {
				pr.total.IncrInt64(e.Bytes)
			}
			pr.bars[d.Digest] = b
			pr.last[d.Digest] = time.Now()
		}
	case copy.BlobProgress:
		if b := pr.bars[d.Digest]; b != nil {
			now := time.Now()
			delta := e.Bytes - b.Current()
			b.EwmaSetCurrent(e.Bytes, now.Sub(pr.last[d.Digest]))
			if pr.total != nil {
				pr.total.EwmaIncrInt64(delta, now.Sub(pr.last[d.Digest]))
			}
			pr.last[d.Digest] = now
		}
	case copy.BlobDone, copy.BlobSkipped, copy.BlobMounted:
		if content.KindOf(d.MediaType) != content.KindUnknown || pr.seen[d.Digest] {
			return // a manifest already in the target, or a blob counted already
		}
		pr.seen[d.Digest] = true
		if pr.mode == progressBars {
			if b := pr.bars[d.Digest]; b != nil {
				if pr.total != nil {
					pr.total.IncrInt64(d.Size - b.Current())
				}
				b.SetCurrent(d.Size)
				delete(pr.bars, d.Digest)
			} else if pr.total != nil {
				pr.total.IncrInt64(d.Size)
			}
			return
		}
		switch e.Kind {
		case copy.BlobDone:
			el := time.Since(pr.start[d.Digest]).Round(time.Millisecond)
			fmt.Fprintf(pr.w, "copied   %s  %9s  %s\n", short(d.Digest), content.HumanSize(d.Size), el)
		case copy.BlobSkipped:
			fmt.Fprintf(pr.w, "exists   %s  %9s\n", short(d.Digest), content.HumanSize(d.Size))
		case copy.BlobMounted:
			fmt.Fprintf(pr.w, "mounted  %s  %9s  from %s\n", short(d.Digest), content.HumanSize(d.Size), e.From)
		}
	case copy.ManifestPushed:
		if pr.mode == progressLines {
			fmt.Fprintf(pr.w, "manifest %s  %9s\n", short(d.Digest), content.HumanSize(d.Size))
		}
	}
}

// finish stops the bars; call it once after the copy, whatever its outcome.
func (pr *progress) finish(ok bool) {
	if pr.mode != progressBars {
		return
	}
	pr.mu.Lock()
	for _, b := range pr.bars {
		b.Abort(true)
	}
	if pr.total != nil {
		if ok {
			pr.total.SetTotal(-1, true)
		} else {
			pr.total.Abort(false)
		}
	}
	pr.mu.Unlock()
	pr.p.Wait()
}

// short is a digest cut to what a person compares: "sha256:0123456789ab".
func short(d digest.Digest) string {
	s := d.String()
	if len(s) > 19 {
		return s[:19]
	}
	return s
}
