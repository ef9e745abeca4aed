package legacy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/hoist-dev/hoist/transport"
)

// Layer opens image id's layer with GET images/ID/layer, trying the
// endpoints in order until one answers 200. The bytes are the layer as
// the registry stores it (a tar, usually gzip-compressed), not verified
// here: RemoteChain.Layer checks them against the image's checksum.
//
// When the answer has "Accept-Ranges: bytes" and the layer's size is
// known (Content-Length, else sizeHint from X-Docker-Size when it is
// above 0), a download that breaks part way (a reset, an early EOF, a
// *transport.StallError) is resumed from the byte reached with
// "Range: bytes=N-" on the same endpoint, up to WithMaxResumes times.
//
// The caller must close the reader. It is not safe for concurrent use.
func (s *Session) Layer(ctx context.Context, id string, sizeHint int64) (io.ReadCloser, error) {
	if err := validID(id); err != nil {
		return nil, err
	}
	var l *transport.ResumingBody
	err := s.try(ctx, func(ep *url.URL) error {
		open := func(off int64) (*http.Response, error) {
			var hdr http.Header
			if off > 0 {
				hdr = http.Header{"Range": {fmt.Sprintf("bytes=%d-", off)}}
			}
			return s.do(ctx, ep, http.MethodGet, "images/"+id+"/layer", hdr, nil, 0)
		}
		resp, err := open(0)
		if err != nil {
			return err
		}
		if err := transport.Expect(resp, http.StatusOK); err != nil {
			return err
		}
		size := resp.ContentLength
		if size < 0 && sizeHint > 0 {
			size = sizeHint
		}
		maxResumes := s.c.opts.maxResumes
		if size <= 0 || !strings.Contains(strings.ToLower(resp.Header.Get("Accept-Ranges")), "bytes") {
			maxResumes = 0
		}
		l = transport.NewResumingBody(ctx, transport.Resumable{
			Name:       "layer of image " + id,
			Size:       size,
			MaxResumes: maxResumes,
			Open:       open,
		}, resp.Body)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("layer of image %s: %w", id, err)
	}
	return l, nil
}
