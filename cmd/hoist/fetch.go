package main

import (
	"context"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
)

// fetchManifest reads and decodes manifest desc from r, verified.
func fetchManifest(ctx context.Context, r store.Reader, desc ocispec.Descriptor) (*content.Manifest, error) {
	rc, err := r.Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	m, err := content.ReadManifest(rc, desc.MediaType, content.DefaultMaxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	if err := m.Verify(desc.Digest); err != nil {
		return nil, err
	}
	return m, nil
}

// resolved is a location opened for reading with its root manifest and,
// when a platform was asked for, that platform's image manifest.
type resolved struct {
	o        *opened // the caller finishes it
	rootDesc ocispec.Descriptor
	root     *content.Manifest
	desc     ocispec.Descriptor // the platform's manifest, or the root
	m        *content.Manifest
}

// resolveManifest opens the location arg names for reading, resolves it and
// fetches its manifest; with platform (os/arch[/variant]) and an index, also
// the manifest of that platform.
func (a *app) resolveManifest(ctx context.Context, arg, platform string) (*resolved, error) {
	l, err := parseLocation(arg)
	if err != nil {
		return nil, err
	}
	var want ocispec.Platform
	if platform != "" {
		if want, err = content.ParsePlatform(platform); err != nil {
			return nil, usageError{err}
		}
	}
	o, err := a.openReader(ctx, l)
	if err != nil {
		return nil, err
	}
	r, err := resolveIn(ctx, o, srcRef(l), arg, platform, want)
	if err != nil {
		o.finish(true)
		return nil, err
	}
	return r, nil
}

func resolveIn(ctx context.Context, o *opened, ref, arg, platform string, want ocispec.Platform) (*resolved, error) {
	r := &resolved{o: o}
	var err error
	if r.rootDesc, err = o.r.Resolve(ctx, ref); err != nil {
		return nil, err
	}
	if r.root, err = fetchManifest(ctx, o.r, r.rootDesc); err != nil {
		return nil, err
	}
	r.desc, r.m = r.rootDesc, r.root
	if platform == "" {
		return r, nil
	}
	if r.root.Index == nil {
		return nil, fmt.Errorf("%s is an image manifest, not an index: --platform does not apply", arg)
	}
	d, ok := content.SelectPlatform(r.root.Index, want)
	if !ok {
		return nil, fmt.Errorf("%s has no image for %s", arg, platform)
	}
	if r.m, err = fetchManifest(ctx, o.r, d); err != nil {
		return nil, err
	}
	r.desc = d
	return r, nil
}
