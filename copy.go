package hoist

import (
	"context"
	"fmt"
	"path"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/copy"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/archive"
	"github.com/hoist-dev/hoist/store/ocilayout"
	"github.com/hoist-dev/hoist/store/remote"
)

// CopyResult is what a Copy, Pull or Push did.
type CopyResult struct {
	// Source and Destination are the locations copied from and to, as
	// parsed (Pull's default destination filled in).
	Source, Destination store.Location
	// Images has one result per image copied: one, or one per tag with
	// WithAllTags, in the order of the tags.
	Images []*copy.Result
}

// Copy copies the image src names to dst; either may be any location
// string (see OpenReader). Between registries the blobs stream from one to
// the other, within one registry they are mounted, and blobs the target
// has are skipped. Manifests are written after their blobs, the tag last,
// and a failed copy into an archive leaves no file. Call options:
// WithPlatforms, WithFormat, WithAllTags, WithConcurrency, WithEvents,
// WithoutBlobCache, WithWarnings, WithReferrers, WithCosignTags. Referrers
// a copy leaves behind (into a docker archive, or of manifests it
// changed) are reported as a *ReferrersLostError warning.
func (s *Session) Copy(ctx context.Context, src, dst string, opts ...Option) (*CopyResult, error) {
	sl, err := store.ParseLocation(src)
	if err != nil {
		return nil, err
	}
	dl, err := store.ParseLocation(dst)
	if err != nil {
		return nil, err
	}
	return s.CopyLocations(ctx, sl, dl, opts...)
}

// Pull copies the registry image ref names to dest, a local location
// string: oci:DIR[:TAG] or docker-archive:FILE[:REF], or a plain path
// (a .tar file is an archive, anything else a layout directory; see
// store.ParseLocalLocation). An empty dest is the layout ./NAME, NAME being
// the repository's last path component, tagged with ref's tag. An archive
// without a REF names the image ref.
func (s *Session) Pull(ctx context.Context, ref, dest string, opts ...Option) (*CopyResult, error) {
	src, err := registryLocation("Pull", ref)
	if err != nil {
		return nil, err
	}
	dst := store.Location{Kind: ocilayout.Kind, Path: "./" + path.Base(src.Ref.Repository)}
	switch {
	case src.Ref.Tag != "":
		dst.Tag = src.Ref.Tag
	case src.Ref.Digest == "":
		dst.Tag = "latest"
	}
	if dest != "" {
		if dst, err = store.ParseLocalLocation(dest); err != nil {
			return nil, err
		}
	}
	if dst.Kind == archive.Kind && dst.Ref.Repository == "" {
		// docker save names what it writes; so does pull.
		dst.Ref = src.Ref
		dst.Ref.Digest = ""
	}
	return s.CopyLocations(ctx, src, dst, opts...)
}

// Push copies the image in src, a local location string (as Pull's dest),
// to the registry repository ref names, tagged with ref's tag (latest when
// it has none).
func (s *Session) Push(ctx context.Context, src, ref string, opts ...Option) (*CopyResult, error) {
	sl, err := store.ParseLocalLocation(src)
	if err != nil {
		return nil, err
	}
	dl, err := registryLocation("Push", ref)
	if err != nil {
		return nil, err
	}
	return s.CopyLocations(ctx, sl, dl, opts...)
}

// CopyLocations is Copy for parsed locations.
func (s *Session) CopyLocations(ctx context.Context, src, dst store.Location, opts ...Option) (*CopyResult, error) {
	ctx = s.bounded(ctx)
	o, err := s.call(opts)
	if err != nil {
		return nil, err
	}
	if err := o.checkReferrersTarget(dst); err != nil {
		return nil, err
	}
	unread := &unreadBlobs{}
	o.events = teeEvents(o.events, unread.event)
	copts, err := copyOptions(o)
	if err != nil {
		return nil, err
	}
	var cache *copy.BlobCache
	if !o.noCache {
		if p, err := copy.DefaultBlobCachePath(); err == nil {
			if cache, err = copy.OpenBlobCache(p); err != nil {
				o.warning(fmt.Errorf("%w; continuing without it", err))
				cache = nil
			}
		}
		copts = append(copts, copy.WithBlobCache(cache))
	}

	so, err := s.OpenLocationReader(ctx, src)
	if err != nil {
		return nil, err
	}
	defer so.Close()
	if _, ok := so.Reader.(store.TagLister); o.allTags && !ok {
		return nil, optionErrorf("WithAllTags", "%s cannot list its tags; it copies all tags of a registry repository or a layout", src)
	}
	do, err := s.OpenLocationWriter(ctx, dst)
	if err != nil {
		return nil, err
	}
	if rr, ok := do.Writer.(*remote.Repository); ok && o.chunkSize != 0 {
		if o.chunkSize < 0 {
			return nil, optionErrorf("WithChunkSize", "%d: want a number of bytes, or 0 for none", o.chunkSize)
		}
		if do.Writer, err = rr.WithMaxChunkSize(o.chunkSize); err != nil {
			return nil, err
		}
	}
	c := copy.New(copts...)
	res := &CopyResult{Source: src, Destination: dst}
	if o.allTags {
		res.Images, err = c.CopyAll(ctx, so.Reader, do.Writer)
	} else {
		var r *copy.Result
		r, err = c.Copy(ctx, so.Reader, "", do.Writer, dst.TargetTag())
		res.Images = []*copy.Result{r}
	}
	if cerr := do.finish(err == nil); err == nil && cerr != nil {
		err = cerr
	} else if err != nil {
		err = incomplete(err, dst, do.Writer)
	}
	if serr := cache.Save(); serr != nil && err == nil {
		o.warning(fmt.Errorf("saving the blob-location cache: %w", serr))
	}
	if err != nil {
		return nil, err
	}
	if w := unread.check(ctx, src, so.Reader); w != nil {
		o.warning(w)
	}
	s.warnLostReferrers(o, dst, res)
	return res, nil
}

func (o options) warning(err error) {
	if o.warn != nil {
		o.warn(err)
	}
}

// copyOptions turns call options into the copy engine's.
func copyOptions(o options) ([]copy.Option, error) {
	var opts []copy.Option
	platforms, err := parsePlatforms(o.platforms)
	if err != nil {
		return nil, err
	}
	if len(platforms) > 0 {
		opts = append(opts, copy.WithPlatforms(platforms...))
	}
	switch o.format {
	case copy.FormatKeep:
	case copy.FormatOCI:
		opts = append(opts, copy.WithFormat(copy.FormatOCI))
	default:
		return nil, optionErrorf("WithFormat", "%d: use copy.FormatKeep or copy.FormatOCI", o.format)
	}
	if o.concurrency != 0 {
		opts = append(opts, copy.WithConcurrency(o.concurrency))
	}
	if o.events != nil {
		opts = append(opts, copy.WithEvents(o.events))
	}
	return append(opts, o.copyReferrerOptions()...), nil
}

func parsePlatforms(ps []string) ([]ocispec.Platform, error) {
	var out []ocispec.Platform
	for _, p := range ps {
		pl, err := content.ParsePlatform(p)
		if err != nil {
			return nil, &OptionError{Option: "WithPlatforms", Err: err}
		}
		out = append(out, pl)
	}
	return out, nil
}
