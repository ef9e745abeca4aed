package distribution

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// errBodyInFlight is wrapped when net/http still reads an upload body after
// it returned: the source is not the uploader's to rewind.
var errBodyInFlight = errors.New("the previous request is still reading the source")

// bodyReleaseWait bounds how long doBody waits for net/http to let go of a
// body after the answer came (an early 413 or 5xx, while the body is still
// being written).
const bodyReleaseWait = 30 * time.Second

// sentBody is an upload body that says when net/http has closed it.
type sentBody struct {
	r    io.Reader
	once sync.Once
	done chan struct{}
}

func (b *sentBody) Read(p []byte) (int, error) { return b.r.Read(p) }

func (b *sentBody) Close() error {
	b.once.Do(func() { close(b.done) })
	return nil
}

// doBody sends a request whose body is the next n bytes of body and, unlike
// do, returns only once net/http has closed that body. net/http may still
// write a body after the answer has come (a 413 sent before the body was
// read); a caller that rewinds its source after a failure must not race
// that write. When the body is not let go within bodyReleaseWait, the
// error wraps errBodyInFlight.
func (r *Registry) doBody(ctx context.Context, method string, u *url.URL, hdr http.Header, body io.Reader, n int64) (*http.Response, error) {
	if n <= 0 || body == nil || body == http.NoBody {
		return r.do(ctx, method, u, hdr, body, n)
	}
	sb := &sentBody{r: io.LimitReader(body, n), done: make(chan struct{})}
	resp, err := r.do(ctx, method, u, hdr, sb, n)
	t := time.NewTimer(bodyReleaseWait)
	defer t.Stop()
	select {
	case <-sb.done:
		return resp, err
	case <-t.C:
	}
	if resp != nil {
		resp.Body.Close()
	}
	if err == nil {
		err = errors.New(method + " " + u.Redacted())
	}
	return nil, errors.Join(err, errBodyInFlight)
}
