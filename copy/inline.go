package copy

import (
	"bytes"
	"context"
	"fmt"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
)

// maxInline bounds the embedded data a copy takes instead of fetching:
// image-spec asks writers to keep it small.
const maxInline = 64 << 10

// withInlineData returns a source that serves desc from the bytes its
// descriptor embeds (the data field; an artifact's empty config carries
// "{}" so), when they match its digest and size: one request fewer.
// Otherwise it returns src.
func withInlineData(src store.Reader, desc ocispec.Descriptor) store.Reader {
	if len(desc.Data) == 0 || len(desc.Data) > maxInline || int64(len(desc.Data)) != desc.Size ||
		desc.Digest.Validate() != nil || desc.Digest.Algorithm().FromBytes(desc.Data) != desc.Digest {
		return src
	}
	return inlineSource{src, desc}
}

// inlineSource is a source whose one blob is in memory.
type inlineSource struct {
	store.Reader
	desc ocispec.Descriptor
}

func (s inlineSource) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if desc.Digest != s.desc.Digest {
		return s.Reader.Fetch(ctx, desc)
	}
	v, err := content.NewVerifier(bytes.NewReader(s.desc.Data), s.desc)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(v), nil
}

// FetchFrom serves a resume from the embedded bytes too.
func (s inlineSource) FetchFrom(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	if desc.Digest != s.desc.Digest {
		if rr, ok := s.Reader.(store.RangeReader); ok {
			return rr.FetchFrom(ctx, desc, offset)
		}
		return nil, fmt.Errorf("the source cannot read %s part way", desc.Digest)
	}
	if offset < 0 || offset > int64(len(s.desc.Data)) {
		return nil, fmt.Errorf("offset %d is outside blob %s", offset, desc.Digest)
	}
	return io.NopCloser(bytes.NewReader(s.desc.Data[offset:])), nil
}
