package hoist

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/remote"

	// The local kinds of location register themselves; store/remote is
	// imported above.
	_ "github.com/hoist-dev/hoist/store/archive"
	_ "github.com/hoist-dev/hoist/store/ocilayout"
)

// Store is a location a Session opened: the store behind it, as a Reader
// or a Writer, and how to finish it.
type Store struct {
	// Location is where the store is.
	Location store.Location
	// Reader reads the store (nil when opened for writing). Optional
	// abilities (store.TagLister, store.RangeReader, ...) are found on it
	// by type assertion.
	Reader store.Reader
	// Writer writes the store (nil when opened for reading).
	Writer store.Writer
}

// Close finishes the store: a written archive is completed, a v1
// registry's staging directory removed. After a failed write, call Discard
// instead.
func (st *Store) Close() error {
	if c, ok := st.handle().(store.Closer); ok {
		return c.Close()
	}
	return nil
}

// Discard abandons what was written, where the store can (store.Aborter:
// an archive being written is removed), and closes the store.
func (st *Store) Discard() error {
	if a, ok := st.handle().(store.Aborter); ok {
		ctx, cancel := context.WithTimeout(context.Background(), abortWait)
		defer cancel()
		return a.Abort(ctx)
	}
	return st.Close()
}

// abortWait bounds how long Discard waits for a store to abandon its
// writes: it runs after a failure, often after the caller's context ended.
const abortWait = 30 * time.Second

func (st *Store) handle() any {
	if st.Writer != nil {
		return st.Writer
	}
	return st.Reader
}

// finish closes the store after a write that succeeded (ok) or discards it.
func (st *Store) finish(ok bool) error {
	if ok {
		return st.Close()
	}
	return st.Discard()
}

// OpenReader opens the location s names for reading: a registry reference
// (plain or docker://REF, in whichever protocol the registry speaks),
// oci:DIR[:TAG], docker-archive:FILE[:REF], or a local path (see
// store.ParseLocation). The caller closes the Store.
func (s *Session) OpenReader(ctx context.Context, location string) (*Store, error) {
	l, err := store.ParseLocation(location)
	if err != nil {
		return nil, err
	}
	return s.OpenLocationReader(ctx, l)
}

// OpenWriter opens the location s names for writing, creating a layout or
// an archive. The caller closes the Store after a successful write, and
// discards it after a failed one.
func (s *Session) OpenWriter(ctx context.Context, location string) (*Store, error) {
	l, err := store.ParseLocation(location)
	if err != nil {
		return nil, err
	}
	return s.OpenLocationWriter(ctx, l)
}

// OpenLocationReader opens a parsed location for reading.
func (s *Session) OpenLocationReader(ctx context.Context, l store.Location) (*Store, error) {
	r, err := l.OpenReader(ctx, s)
	if err != nil {
		return nil, err
	}
	return &Store{Location: l, Reader: r}, nil
}

// OpenLocationWriter opens a parsed location for writing.
func (s *Session) OpenLocationWriter(ctx context.Context, l store.Location) (*Store, error) {
	w, err := l.OpenWriter(ctx, s)
	if err != nil {
		return nil, err
	}
	return &Store{Location: l, Writer: w}, nil
}

// ErrNotRegistry is matched by the error for a location that is not a
// registry image given to a call that works on registries only (Pull's
// source, Push's destination, Delete, Blob). It also matches
// store.ErrInvalidLocation.
var ErrNotRegistry = errors.New("not a registry location")

type notRegistryError struct {
	call string
	l    store.Location
}

func (e notRegistryError) Error() string {
	return fmt.Sprintf("%s works on registry images, and %s is %s", e.call, e.l, e.l.Kind.Description)
}

func (e notRegistryError) Is(target error) bool {
	return target == ErrNotRegistry || target == store.ErrInvalidLocation || target == errdef.ErrInvalid
}

// registryLocation parses s, which must name a registry image for call.
func registryLocation(call, s string) (store.Location, error) {
	l, err := store.ParseLocation(s)
	if err != nil {
		return l, err
	}
	if !l.Kind.Registry {
		return l, notRegistryError{call, l}
	}
	return l, nil
}

// requireV2 fails with a clear message for calls only v2 registries answer.
func (s *Session) requireV2(ctx context.Context, registry, what string) error {
	p, err := s.Protocol(ctx, registry)
	if err != nil {
		return err
	}
	if p != remote.V2 {
		return fmt.Errorf("%s speaks only the legacy v1 protocol, which has no %s", registry, what)
	}
	return nil
}
