package hoist

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/copy"
	"github.com/hoist-dev/hoist/store"
)

// IncompleteError is the error of a copy into a local layout that stopped
// part way (interrupted, out of disk space, a connection lost): what
// arrived is kept, complete blobs under blobs/ and partial ones staged,
// and running the same copy again resumes from there.
type IncompleteError struct {
	// Err is why the copy stopped.
	Err error
	// Destination is the layout written.
	Destination store.Location
	// StagingDir is where partial blobs are staged, and Staged how many
	// bytes they hold.
	StagingDir string
	Staged     int64
}

func (e *IncompleteError) Error() string { return e.Err.Error() }

// Unwrap returns Err.
func (e *IncompleteError) Unwrap() error { return e.Err }

// stager is a store that stages partial blobs (ocilayout.Layout).
type stager interface {
	Staged() (dir string, bytes int64)
}

// incomplete wraps err, a failed copy's, with what w kept for a rerun,
// unless nothing was kept (w was discarded whole).
func incomplete(err error, dst store.Location, w store.Writer) error {
	sg, ok := w.(stager)
	if !ok {
		return err
	}
	if _, serr := os.Stat(dst.Path); serr != nil {
		return err
	}
	dir, n := sg.Staged()
	return &IncompleteError{Err: err, Destination: dst, StagingDir: dir, Staged: n}
}

// IncompleteSourceError is the warning (see WithWarnings) of a copy whose
// source layout lacks blobs its manifests name: the copy succeeded, since
// the target had them or mounted them from another repository (the
// blob-location cache), but the source could not be copied anywhere else.
type IncompleteSourceError struct {
	// Source is the layout copied from.
	Source store.Location
	// Missing are the blobs it lacks, sorted.
	Missing []digest.Digest
}

func (e *IncompleteSourceError) Error() string {
	ds := make([]string, len(e.Missing))
	for i, d := range e.Missing {
		ds[i] = d.String()
	}
	return fmt.Sprintf("the source %s is incomplete: it lacks blob(s) %s; the target already had them or mounted them, so the copy is whole, but the source cannot be copied anywhere else", e.Source, strings.Join(ds, ", "))
}

// unreadBlobs records the blobs a copy took without reading the source:
// those the target had and those it mounted.
type unreadBlobs struct {
	mu    sync.Mutex
	descs map[digest.Digest]ocispec.Descriptor
}

func (u *unreadBlobs) event(e copy.Event) {
	if e.Kind != copy.BlobSkipped && e.Kind != copy.BlobMounted {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.descs == nil {
		u.descs = map[digest.Digest]ocispec.Descriptor{}
	}
	u.descs[e.Descriptor.Digest] = e.Descriptor
}

// presenceChecker is a local store that can tell cheaply whether it holds
// a blob (an OCI layout).
type presenceChecker interface {
	Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error)
}

// check returns an *IncompleteSourceError when src, a local layout, lacks
// one of the blobs the copy did not read from it; nil otherwise.
func (u *unreadBlobs) check(ctx context.Context, src store.Location, r store.Reader) error {
	pc, ok := r.(presenceChecker)
	if !ok || (!src.Kind.Local.Dirs && !src.Kind.Local.Files) {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	var missing []digest.Digest
	for d, desc := range u.descs {
		if ok, err := pc.Exists(ctx, desc); err == nil && !ok {
			missing = append(missing, d)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i] < missing[j] })
	return &IncompleteSourceError{Source: src, Missing: missing}
}

// teeEvents returns a function that passes each event to f (when not nil)
// and to g.
func teeEvents(f, g func(copy.Event)) func(copy.Event) {
	if f == nil {
		return g
	}
	return func(e copy.Event) {
		g(e)
		f(e)
	}
}
