package hoist

import (
	"context"
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
)

// Config returns the config blob of the image ref names (a location
// string, see OpenReader), byte for byte and verified against its digest,
// with its descriptor. For an index, WithPlatforms names the image whose
// config is wanted; without it the error is an *OptionError listing the
// platforms there are.
func (s *Session) Config(ctx context.Context, ref string, opts ...Option) ([]byte, ocispec.Descriptor, error) {
	r, err := s.resolve(ctx, ref, opts)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	defer r.st.Close()
	if r.m.Index != nil {
		var ps []string
		for _, d := range r.m.Index.Manifests {
			if d.Platform != nil {
				ps = append(ps, content.FormatPlatform(*d.Platform))
			}
		}
		return nil, ocispec.Descriptor{}, optionErrorf("WithPlatforms", "%s is an index of %d images (%s): name the platform whose config to read", ref, len(r.m.Index.Manifests), strings.Join(ps, ", "))
	}
	if r.m.Image == nil {
		return nil, ocispec.Descriptor{}, fmt.Errorf("%s is a %s, which has no config blob", ref, r.m.Descriptor.MediaType)
	}
	desc := r.m.Image.Config
	rc, err := r.st.Reader.Fetch(ctx, desc)
	if err != nil {
		return nil, ocispec.Descriptor{}, fmt.Errorf("config %s: %w", desc.Digest, err)
	}
	defer rc.Close()
	raw, err := content.ReadCapped(rc, maxConfigSize, "config "+desc.Digest.String())
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	return raw, desc, nil
}

// configResult is Config's two results, for oneCall.
type configResult struct {
	raw  []byte
	desc ocispec.Descriptor
}

// Config returns the config blob of the image ref names, verified; see
// Session.Config.
func Config(ctx context.Context, ref string, opts ...Option) ([]byte, ocispec.Descriptor, error) {
	r, err := oneCall(opts, func(s *Session) (configResult, error) {
		raw, desc, err := s.Config(ctx, ref)
		return configResult{raw, desc}, err
	})
	return r.raw, r.desc, err
}
