package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/store"
)

// cache stores desc, a manifest or a blob (by its media type), from the
// upstream, once per digest at a time in this process.
func (r *Repository) cache(ctx context.Context, desc ocispec.Descriptor) error {
	up, err := r.upstream(ctx)
	if err != nil {
		return err
	}
	if content.KindOf(desc.MediaType) != content.KindUnknown {
		return r.cacheManifest(ctx, up, desc)
	}
	if desc.Size <= 0 {
		// The registry API asks by digest: learn the size first, so the
		// fetch is verified against it.
		st, ok := up.(store.Statter)
		if !ok {
			return r.m.upstreamErr(errors.New("it cannot describe blobs"), "stat of "+r.name+"@"+desc.Digest.String())
		}
		if desc, err = st.Stat(ctx, desc.Digest); err != nil {
			return r.m.upstreamErr(err, "stat of "+r.name+"@"+desc.Digest.String())
		}
	}
	_, err, _ = r.m.flight.Do("blob "+r.name+"@"+desc.Digest.String(), func() (any, error) {
		return nil, r.cacheBlob(context.WithoutCancel(ctx), up, desc)
	})
	return err
}

// cacheBlob streams the blob desc from upstream into storage, which
// commits it only if its digest and size match.
func (r *Repository) cacheBlob(ctx context.Context, up store.Reader, desc ocispec.Descriptor) error {
	if ok, err := r.local.Exists(ctx, desc); err == nil && ok {
		return nil // another fetch got it meanwhile
	}
	what := "fetching blob " + r.name + "@" + desc.Digest.String()
	rc, err := up.Fetch(ctx, desc)
	if err != nil {
		return r.m.upstreamErr(err, what)
	}
	defer rc.Close()
	in, err := r.local.Ingest(ctx, "", store.IngestOptions{Expected: desc})
	if err != nil {
		return err
	}
	defer in.Close()
	if _, err := io.Copy(in, rc); err != nil {
		_ = in.Abort(ctx)
		return r.m.upstreamErr(fmt.Errorf("%w; nothing was stored", err), what)
	}
	if _, err := in.Commit(ctx, desc.Size, desc.Digest); err != nil {
		var me *content.MismatchError
		if errors.As(err, &me) {
			return r.m.upstreamErr(fmt.Errorf("%w; nothing was stored", err), what)
		}
		return err
	}
	return nil
}

// cacheManifest stores the manifest desc from upstream unless storage has
// it: its bytes are checked against desc before they are stored.
func (r *Repository) cacheManifest(ctx context.Context, up store.Reader, desc ocispec.Descriptor) error {
	if _, err := r.local.Resolve(ctx, desc.Digest.String()); err == nil {
		return nil
	}
	_, err, _ := r.m.flight.Do("manifest "+r.name+"@"+desc.Digest.String(), func() (any, error) {
		ctx := context.WithoutCancel(ctx)
		what := "fetching manifest " + r.name + "@" + desc.Digest.String()
		rc, err := up.Fetch(ctx, desc)
		if err != nil {
			return nil, r.m.upstreamErr(err, what)
		}
		defer rc.Close()
		raw, err := content.ReadCapped(rc, content.DefaultMaxManifestSize, "manifest")
		if err != nil {
			if errors.Is(err, errdef.ErrTooLarge) {
				return nil, err
			}
			return nil, r.m.upstreamErr(fmt.Errorf("%w; nothing was stored", err), what)
		}
		if _, err := r.local.PutManifest(ctx, desc, bytesReader(raw)); err != nil {
			var me *content.MismatchError
			if errors.As(err, &me) {
				return nil, r.m.upstreamErr(fmt.Errorf("%w; nothing was stored", err), what)
			}
			return nil, err
		}
		return nil, nil
	})
	return err
}
