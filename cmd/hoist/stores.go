package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/hoist-dev/hoist/legacy"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/archive"
	"github.com/hoist-dev/hoist/store/ocilayout"
	"github.com/hoist-dev/hoist/store/remote"
)

// opened is a store the CLI opened, and how to finish it.
type opened struct {
	loc   store.Location
	r     store.Reader // nil when opened for writing only
	w     store.Writer // nil when opened for reading only
	close func(ok bool) error
}

// finish closes the store. ok says whether the work succeeded: an archive
// being written is completed only then, and discarded otherwise.
func (o *opened) finish(ok bool) error {
	if o.close == nil {
		return nil
	}
	return o.close(ok)
}

// closer adapts a Close method to opened.close.
func closer(c func() error) func(bool) error { return func(bool) error { return c() } }

// parseLocation parses a location argument; a bad one is a usage error.
func parseLocation(s string) (store.Location, error) {
	l, err := store.ParseLocation(s)
	if err != nil {
		return store.Location{}, usageError{err}
	}
	return l, nil
}

// protocols remembers what each registry speaks, for this invocation.
type protocols struct {
	mu sync.Mutex
	m  map[string]remote.Protocol
}

// protocol returns the protocol of registry: --protocol when given, else
// detected (/v2/ first, then /v1/_ping).
func (a *app) protocol(ctx context.Context, registry string) (remote.Protocol, error) {
	switch a.protocolFlag {
	case "v1":
		return remote.V1, nil
	case "v2":
		return remote.V2, nil
	}
	a.protos.mu.Lock()
	defer a.protos.mu.Unlock()
	if p, ok := a.protos.m[registry]; ok {
		return p, nil
	}
	p, err := remote.Detect(ctx, registry, a.registryClient(reference.APIHost(registry)), a.v1Options()...)
	if err != nil {
		return "", err
	}
	if a.protos.m == nil {
		a.protos.m = map[string]remote.Protocol{}
	}
	a.protos.m[registry] = p
	return p, nil
}

// v1Options are the options of every v1 client: the shared transport and
// the stored credentials.
func (a *app) v1Options() []legacy.Option {
	return []legacy.Option{legacy.WithTransport(a.tr), legacy.WithKeychain(a.credentials())}
}

// openRemote opens the v2 repository ref names.
func (a *app) openRemote(ref reference.Reference) (*remote.Repository, error) {
	return remote.New(ref, a.registryClient(reference.APIHost(ref.Registry)))
}

// openV1 opens the v1 repository ref names, checking the v1 name rules.
func (a *app) openV1(ref reference.Reference) (*remote.V1Repository, error) {
	if ref.Digest != "" {
		return nil, usagef("%s: v1 registries have no digests; name the image by tag", ref)
	}
	s := ref.Registry + "/" + ref.Repository
	if reference.IsDockerHub(ref.Registry) {
		s = ref.Repository
	}
	if ref.Tag != "" {
		s += ":" + ref.Tag
	}
	name, err := reference.ParseV1(s)
	if err != nil {
		return nil, usageError{err}
	}
	return remote.NewV1(name, a.v1Options()...)
}

// openRegistry opens a registry location in whichever protocol it speaks.
func (a *app) openRegistry(ctx context.Context, l store.Location) (*opened, error) {
	p, err := a.protocol(ctx, l.Ref.Registry)
	if err != nil {
		return nil, err
	}
	if p == remote.V1 {
		r, err := a.openV1(l.Ref)
		if err != nil {
			return nil, err
		}
		return &opened{loc: l, r: r, w: r, close: closer(r.Close)}, nil
	}
	r, err := a.openRemote(l.Ref)
	if err != nil {
		return nil, err
	}
	return &opened{loc: l, r: r, w: r}, nil
}

// openReader opens a location to copy or read from.
func (a *app) openReader(ctx context.Context, l store.Location) (*opened, error) {
	switch l.Kind {
	case store.Registry:
		return a.openRegistry(ctx, l)
	case store.OCILayout:
		lay, err := ocilayout.Open(ctx, l.Path)
		if err != nil {
			return nil, err
		}
		return &opened{loc: l, r: lay}, nil
	case store.DockerArchive:
		ar, err := archive.Open(ctx, l.Path)
		if err != nil {
			return nil, err
		}
		return &opened{loc: l, r: ar, close: closer(ar.Close)}, nil
	}
	return nil, fmt.Errorf("%s: hoist cannot read %s locations", l, l.Kind)
}

// openWriter opens a location to copy into.
func (a *app) openWriter(ctx context.Context, l store.Location) (*opened, error) {
	switch l.Kind {
	case store.Registry:
		return a.openRegistry(ctx, l)
	case store.OCILayout:
		lay, err := ocilayout.Create(ctx, l.Path)
		if err != nil {
			return nil, err
		}
		return &opened{loc: l, w: lay}, nil
	case store.DockerArchive:
		var opts []archive.Option
		if l.Ref.Repository != "" {
			opts = append(opts, archive.WithReference(l.Ref))
		}
		ar, err := archive.Create(ctx, l.Path, opts...)
		if err != nil {
			return nil, err
		}
		return &opened{loc: l, w: ar, close: func(ok bool) error {
			if !ok {
				return ar.Discard()
			}
			return ar.Close()
		}}, nil
	}
	return nil, fmt.Errorf("%s: hoist cannot write %s locations", l, l.Kind)
}

// requireV2 fails with a clear message for verbs only v2 registries have.
func (a *app) requireV2(ctx context.Context, registry, verb string) error {
	p, err := a.protocol(ctx, registry)
	if err != nil {
		return err
	}
	if p != remote.V2 {
		return fmt.Errorf("%s speaks only the legacy v1 protocol, which has no %s", registry, verb)
	}
	return nil
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
		if !strings.Contains(l.Tag, ":") {
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
