package legacy

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/transport"
)

// Client speaks v1 to one index (for a private registry, the registry
// itself) and, through a Session, to the registries the index names.
//
// A Client is safe for concurrent use. It remembers the answer of its
// first successful Ping.
type Client struct {
	index *url.URL
	opts  options
	hc    *http.Client // hoist's redirect policy, no cookie jar

	mu   sync.Mutex
	ping *PingResult
}

// NewClient returns a Client for the index or private registry named by
// index (see ParseEndpoint for the forms accepted). It does no I/O.
func NewClient(index string, opts ...Option) (*Client, error) {
	u, err := ParseEndpoint(index)
	if err != nil {
		return nil, err
	}
	o := buildOptions(opts)
	return &Client{index: u, opts: o, hc: transport.NewClient(o.rt)}, nil
}

// Endpoint returns the index endpoint, a URL ending in "/v1/". The caller
// may modify the copy it gets.
func (c *Client) Endpoint() *url.URL {
	u := *c.index
	return &u
}

// credential returns the Basic credential for host, the zero Credential
// when there is none. v1 knows only username and password: a credential
// that holds only an identity or registry token is not usable here.
func (c *Client) credential(ctx context.Context, host string) (auth.Credential, error) {
	if c.opts.keychain == nil {
		return auth.Credential{}, nil
	}
	cred, err := c.opts.keychain.Get(ctx, host)
	if err != nil {
		return auth.Credential{}, fmt.Errorf("reading the credentials for %s: %w", host, err)
	}
	if cred.Username == "" || cred.Password == "" {
		return auth.Credential{}, nil
	}
	return cred, nil
}

// basicAuth returns the value of an Authorization header carrying cred.
func basicAuth(cred auth.Credential) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(cred.Username+":"+cred.Password))
}

// indexHeaders returns the headers of an index call: Basic credentials
// when the keychain has some for the index, and X-Docker-Token: true to
// ask for a token.
func (c *Client) indexHeaders(ctx context.Context) (http.Header, error) {
	cred, err := c.credential(ctx, c.index.Host)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("X-Docker-Token", "true")
	if !cred.IsZero() {
		h.Set("Authorization", basicAuth(cred))
	}
	return h, nil
}

// readBody reads resp's body, at most limit bytes, and closes it. what
// names the body in errors.
func readBody(resp *http.Response, limit int64, what string) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s from %s: %w", what, errcode.RedactURL(resp.Request.URL), err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s from %s is over %d bytes: %w", what, errcode.RedactURL(resp.Request.URL), limit, errcode.ErrTooLarge)
	}
	return b, nil
}

// errorFromBody builds the *errcode.Error of resp from a body already
// read (by readBody).
func errorFromBody(resp *http.Response, body []byte) error {
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return errcode.FromResponse(resp)
}
