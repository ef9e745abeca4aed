package legacy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/transport"
)

// PingResult is what a v1 registry says about itself in answer to _ping.
type PingResult struct {
	// Version is the registry's version, from X-Docker-Registry-Version or
	// else the body; "" when it said neither.
	Version string
	// Standalone reports whether the registry is its own index (a private
	// registry) rather than one that trusts tokens from a central index.
	Standalone bool
	// Secure reports whether the answer came over https. The transport
	// may have fallen back to http for a loopback or insecure host.
	Secure bool
}

// Ping asks the index endpoint for _ping and returns its answer, which is
// remembered: later calls, and Sessions, use the first successful one.
// Docker Hub's index is never pinged; it is not standalone.
//
// The standalone flag is read as the original client did: the header
// X-Docker-Registry-Standalone wins ("true" in any case or "1" means yes,
// any other non-empty value no); without it, the body's "standalone";
// without a body that parses, standalone. Unlike the original, which
// looked only at the headers and body, Ping wants a 2xx status, so that a
// server without the v1 API (a v2-only registry answers 404) fails here
// rather than later.
func (c *Client) Ping(ctx context.Context) (PingResult, error) {
	c.mu.Lock()
	cached := c.ping
	c.mu.Unlock()
	if cached != nil {
		return *cached, nil
	}
	var res PingResult
	if isPublicIndex(c.index) {
		res = PingResult{Standalone: false, Secure: true}
	} else {
		var err error
		if res, err = c.doPing(ctx); err != nil {
			return PingResult{}, err
		}
	}
	c.mu.Lock()
	if c.ping == nil {
		c.ping = &res
	}
	res = *c.ping
	c.mu.Unlock()
	return res, nil
}

func (c *Client) doPing(ctx context.Context) (PingResult, error) {
	u := resolve(c.index, "_ping")
	resp, err := transport.Send(ctx, c.hc, http.MethodGet, u, nil, nil, 0)
	if err != nil {
		return PingResult{}, fmt.Errorf("v1 ping of %s: %w", c.index.Host, err)
	}
	if resp.StatusCode/100 != 2 {
		return PingResult{}, fmt.Errorf("v1 ping of %s: not a v1 registry: %w", c.index.Host, errcode.FromResponse(resp))
	}
	body, err := readBody(resp, maxSmallBody, "the _ping answer")
	if err != nil {
		return PingResult{}, err
	}
	res := PingResult{Standalone: true, Secure: resp.TLS != nil}
	var info struct {
		Version    string `json:"version"`
		Standalone *bool  `json:"standalone"`
	}
	if json.Unmarshal(body, &info) == nil {
		res.Version = info.Version
		if info.Standalone != nil {
			res.Standalone = *info.Standalone
		}
	}
	if v := resp.Header.Get("X-Docker-Registry-Version"); v != "" {
		res.Version = v
	}
	switch h := resp.Header.Get("X-Docker-Registry-Standalone"); {
	case strings.EqualFold(h, "true") || h == "1":
		res.Standalone = true
	case h != "":
		res.Standalone = false
	}
	return res, nil
}
