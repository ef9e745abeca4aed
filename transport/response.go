package transport

import (
	"io"
	"net/http"

	"github.com/hoist-dev/hoist/errcode"
)

// drainLimit is how much of an unwanted body Drain reads to keep the
// connection: more, and closing it is cheaper than reading on.
const drainLimit = 64 << 10

// Drain reads what is left of resp's body, at most 64 KiB, so that its
// connection can be reused, and closes it. Every protocol client ends the
// answers whose body it does not want with it.
func Drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	resp.Body.Close()
}

// Expect returns nil when resp has one of the wanted statuses, leaving
// its body to the caller; otherwise it consumes resp into an
// *errcode.Error (errcode.FromResponse), whose body it reads capped and
// closes.
func Expect(resp *http.Response, want ...int) error {
	for _, w := range want {
		if resp.StatusCode == w {
			return nil
		}
	}
	return errcode.FromResponse(resp)
}
