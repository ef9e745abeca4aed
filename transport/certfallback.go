package transport

import (
	"fmt"
	"net/http"
	"sync/atomic"
)

// certFallback sends a request with the host's client certificates in
// order until one is not refused. A refusal is a TLS or connection failure,
// a 403 or a 5xx. The last certificate's answer is returned as it is. The
// certificate that worked is tried first next time; when it is refused, the
// whole order is tried again.
type certFallback struct {
	host      string
	names     []string // certificate file names, "" for no certificate
	rts       []http.RoundTripper
	preferred atomic.Int32
}

func (c *certFallback) RoundTrip(req *http.Request) (*http.Response, error) {
	tr := traceFrom(req.Context())
	if len(c.rts) == 1 || req.URL.Scheme != "https" {
		resp, err := c.rts[0].RoundTrip(req)
		c.record(tr, 0, resp, err, false)
		return resp, err
	}
	p := int(c.preferred.Load())
	order := []int{p}
	for i := range c.rts {
		if i != p {
			order = append(order, i)
		}
	}
	rp := newReplayer(req)
	for i, idx := range order {
		r, err := rp.next()
		if err != nil {
			prev := order[i-1]
			return nil, fmt.Errorf("%s: client certificate %s was refused and %s cannot be tried: %w",
				c.host, c.names[prev], c.names[idx], err)
		}
		resp, err := c.rts[idx].RoundTrip(r)
		refused := req.Context().Err() == nil && isRefusal(resp, err)
		last := i == len(order)-1
		c.record(tr, idx, resp, err, refused && !last)
		if !refused || last {
			if !refused {
				c.preferred.Store(int32(idx))
			}
			rp.done()
			return resp, err
		}
		if resp != nil {
			Drain(resp)
		}
	}
	panic("unreachable")
}

func (c *certFallback) record(tr *Trace, idx int, resp *http.Response, err error, refused bool) {
	if tr == nil {
		return
	}
	a := CertAttempt{Cert: c.names[idx], Err: err, Refused: refused}
	if resp != nil {
		a.Status = resp.StatusCode
		tr.response(resp.Request.URL.Scheme, resp.TLS)
	}
	tr.add(a)
}

// isRefusal reports whether an attempt failed in a way another client
// certificate might fix. A server that speaks plain http is not one: the
// scheme layer above handles that.
func isRefusal(resp *http.Response, err error) bool {
	if err != nil {
		return !speaksPlainHTTP(err)
	}
	return resp.StatusCode == http.StatusForbidden || resp.StatusCode >= 500
}
