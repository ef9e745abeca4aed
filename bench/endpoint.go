package main

import (
	"context"
	"fmt"
)

// endpoint is how the tools reach one registry under the current profile:
// on loopback directly; under a shaped profile through a counting proxy,
// and for the registry the profile puts far away, through toxiproxy in
// front of that:
//
//	tool → toxiproxy (latency, per-connection cap) → counting proxy → registry
//
// Both proxies are TCP-level and keep one upstream connection per client
// connection, so the Host header, and with it every Location the registry
// writes, names the address the tool dialled.
type endpoint struct {
	addr   string // what tools dial
	direct string // the registry itself, for the harness's own checks
	count  *countingProxy
	shape  *shaped
}

// expose puts the current profile in front of the registry at addr; remote
// says whether this registry is the far one (shaped) or a near one (only
// counted).
func (h *harness) expose(ctx context.Context, addr string, remote bool) (*endpoint, error) {
	e := &endpoint{addr: addr, direct: addr}
	if !h.prof.shaped() {
		return e, nil
	}
	var err error
	if e.count, err = startCountingProxy(addr); err != nil {
		return nil, fmt.Errorf("start the counting proxy: %w", err)
	}
	e.addr = e.count.addr
	if remote {
		if e.shape, err = h.toxi.proxy(ctx, h.prof, e.count.addr); err != nil {
			e.close(ctx)
			return nil, fmt.Errorf("toxiproxy: %w", err)
		}
		e.addr = e.shape.addr
	}
	return e, nil
}

// take returns the requests counted since the last take (nil when nothing
// counts them).
func (e *endpoint) take() requestCounts {
	if e == nil || e.count == nil {
		return nil
	}
	return e.count.take()
}

// close removes the proxies; the registry keeps running.
func (e *endpoint) close(ctx context.Context) {
	if e == nil {
		return
	}
	e.shape.close(ctx)
	e.shape = nil
	e.count.close()
	e.count = nil
}
