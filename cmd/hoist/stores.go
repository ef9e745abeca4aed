package main

import (
	"context"
	"fmt"

	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/remote"
)

// opened is a store the CLI opened, with what Resolve needs for "" and how
// to finish it.
type opened struct {
	loc   store.Location
	r     store.Reader // nil when opened for writing only
	w     store.Writer // nil when opened for reading only
	close func() error
}

// finish closes the store; a store that is not closed after a successful
// copy (an archive) is incomplete.
func (o *opened) finish() error {
	if o.close == nil {
		return nil
	}
	return o.close()
}

// parseLocation parses a location argument; a bad one is a usage error.
func parseLocation(s string) (store.Location, error) {
	l, err := store.ParseLocation(s)
	if err != nil {
		return store.Location{}, usageError{err}
	}
	return l, nil
}

// openRemote opens the registry repository ref names.
func (a *app) openRemote(ref reference.Reference) (*remote.Repository, error) {
	return remote.New(ref, a.registryClient(reference.APIHost(ref.Registry)))
}

// openReader opens a location to copy or read from.
func (a *app) openReader(ctx context.Context, l store.Location) (*opened, error) {
	switch l.Kind {
	case store.Registry:
		r, err := a.openRemote(l.Ref)
		if err != nil {
			return nil, err
		}
		return &opened{loc: l, r: r}, nil
	}
	return nil, fmt.Errorf("%s: reading %s locations is not available yet", l, l.Kind)
}

// openWriter opens a location to copy into.
func (a *app) openWriter(ctx context.Context, l store.Location) (*opened, error) {
	switch l.Kind {
	case store.Registry:
		r, err := a.openRemote(l.Ref)
		if err != nil {
			return nil, err
		}
		return &opened{loc: l, w: r}, nil
	}
	return nil, fmt.Errorf("%s: writing %s locations is not available yet", l, l.Kind)
}

// srcRef is what Resolve is asked for a source location: the layout's TAG,
// the registry reference's own tag or digest.
func srcRef(l store.Location) string {
	switch l.Kind {
	case store.OCILayout:
		return l.Tag
	case store.DockerArchive:
		if l.Ref.Repository != "" {
			return l.Ref.Familiar()
		}
		return ""
	}
	return l.Ref.Identifier()
}

// dstTag is the tag a copy gives its root in the target location.
func dstTag(l store.Location) string {
	switch l.Kind {
	case store.OCILayout:
		if len(l.Tag) > 0 && !isDigest(l.Tag) {
			return l.Tag
		}
		return ""
	case store.DockerArchive:
		return l.Ref.Tag
	}
	if l.Ref.Tag != "" {
		return l.Ref.Tag
	}
	if l.Ref.Digest != "" {
		return ""
	}
	return reference.DefaultTag
}

func isDigest(s string) bool {
	for _, c := range s {
		if c == ':' {
			return true
		}
	}
	return false
}
