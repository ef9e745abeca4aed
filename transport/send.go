package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/hoist-dev/hoist/errcode"
)

// Send builds a request for method and u carrying the headers in hdr,
// sends it with hc and returns the response whatever its status; the
// caller closes the response body. body may be nil; when it is not, size
// is its length, or -1 to send it with chunked transfer encoding. A body
// that is also an io.Closer is closed by hc once sent, as http.Client.Do
// does, except when size is 0 (nothing is sent) or the request cannot be
// built.
//
// A network error names the method and the URL redacted by
// errcode.RedactURL: the *url.Error that http.Client returns, which would
// print the URL with its secrets, is unwrapped first. The URL is the one
// really used: http:// when the Transport fell back to plain http.
func Send(ctx context.Context, hc *http.Client, method string, u *url.URL, hdr http.Header, body io.Reader, size int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, errcode.RedactURL(u), err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if body != nil {
		req.ContentLength = size
		if size == 0 {
			req.Body, req.GetBody = http.NoBody, nil
		}
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		sent := u
		var oh *SentOverHTTPError
		if errors.As(err, &oh) && u.Scheme == "https" {
			h := *u
			h.Scheme = "http"
			sent = &h
		}
		return nil, fmt.Errorf("%s %s: %w", method, errcode.RedactURL(sent), err)
	}
	return resp, nil
}
