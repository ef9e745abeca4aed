package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/hoist-dev/hoist/errcode"
	hoisttransport "github.com/hoist-dev/hoist/transport"
)

// transport authenticates requests to one registry host; see NewTransport.
type transport struct {
	base    http.RoundTripper
	host    string // the endpoint host requests must name to get credentials
	keyHost string // the host as given, for the Keychain
	creds   Keychain
	o       options
	tokens  tokenCache

	pingMu sync.Mutex // one GET /v2/ at a time, so concurrent uploads learn the challenge once

	mu      sync.Mutex
	cred    *Credential // from creds, fetched once
	scheme  string      // "" until known; "none", "basic" or "bearer"
	realm   string
	service string
}

// NewTransport returns an http.RoundTripper that authenticates requests to
// host ("host" or "host:port"; "docker.io" means registry-1.docker.io) with
// the credential creds has for it (nil means anonymous), and passes every
// request through base (nil means http.DefaultTransport).
//
// Behaviour:
//   - Requests to any other host (a redirect to blob storage, say) pass
//     through untouched: no credential or token is ever added to them. A
//     request that already carries Authorization is also left alone.
//   - A 401 with a Basic challenge is answered with the credentials; with a
//     Bearer challenge, with a token from the challenge's realm for the
//     scopes the request needs (derived from its method and path, the
//     challenge's scope, and ContextWithScopes). The request is re-sent
//     once; a second 401 is returned to the caller as it is. A realm on
//     another site than host (not the same host, nor the same registrable
//     domain) gets only the Keychain's credential for the realm's own
//     host, and none from Static: a registry cannot send its users'
//     passwords to a host of its choosing.
//   - Once the host's challenge is known, later requests get credentials
//     or a cached token up front, without a 401 round trip. Tokens are
//     cached per realm, service and scope set until their expires_in (by
//     the WithClock clock) runs out.
//   - A request with a body is preceded, while the challenge is unknown, by
//     a GET /v2/ to learn it, so the body is normally sent once. Any
//     earlier request of the API that the registry answered without
//     asking for credentials (a 2xx, or a 404) teaches the same, so no
//     GET /v2/ is sent after one. If it
//     still meets a 401, it is re-sent through Request.GetBody; without
//     GetBody the transport returns an error wrapping ErrBodyNotReplayable
//     rather than re-send a consumed body.
//   - Credentials and tokens travel over plain http only to hosts that
//     WithPlainHTTPAllowed allows; otherwise a challenge over http is an
//     error wrapping ErrPlainHTTP.
//
// Token requests go through base too, following redirects by hoist's
// rules. The returned RoundTripper is safe for concurrent use and obeys
// the http.RoundTripper contract: it does not modify the request and
// always closes its body.
func NewTransport(base http.RoundTripper, host string, creds Keychain, opts ...Option) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if creds == nil {
		creds = Static(Credential{})
	}
	return &transport{base: base, host: endpointHost(host), keyHost: host, creds: creds, o: buildOptions(opts)}
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !hostMatches(req.URL, t.host) || req.Header.Get("Authorization") != "" {
		return t.base.RoundTrip(req)
	}
	if req.URL.Scheme != "https" && !t.o.plainHTTP(t.host) {
		return t.plain(req)
	}
	ctx := req.Context()
	if withoutCredentials(ctx) {
		return t.passThrough(req)
	}
	scopes := requestScopes(req)
	hasBody := req.Body != nil && req.Body != http.NoBody
	replayable := !hasBody || req.GetBody != nil
	if hasBody && t.knownScheme() == "" {
		// Learn the challenge before spending a body, which could be large
		// or impossible to send twice.
		if err := t.ping(ctx, req.URL); err != nil {
			closeBody(req)
			return nil, err
		}
	}
	authz, err := t.authorize(ctx, scopes)
	if err != nil {
		if errors.Is(err, ErrBadCredentials) && t.anonymous(ctx) {
			// No token for anonymous requests: the registry's own answer
			// to a bare request (a 401, normally) says it best.
			return t.base.RoundTrip(req)
		}
		closeBody(req)
		return nil, err
	}
	resp, err := t.base.RoundTrip(withAuthorization(req, authz, nil))
	if err != nil {
		return resp, err
	}
	if resp.StatusCode != http.StatusUnauthorized {
		if authz == "" && answeredBare(req, resp) {
			t.noAuth() // what a GET /v2/ would have taught: nothing to learn later
		}
		return resp, nil
	}
	c, ok := pickChallenge(challengesOf(resp.Header))
	if !ok {
		return resp, nil
	}
	t.learn(c)
	if c.Scheme == "basic" && strings.HasPrefix(authz, "Basic ") {
		return resp, nil // the registry refused these credentials
	}
	need := scopes.clone()
	if c.Scheme == "bearer" {
		need.add(c.Params["scope"])
		if tok, ok := strings.CutPrefix(authz, "Bearer "); ok && c.Params["error"] != "insufficient_scope" {
			t.tokens.drop(tok) // refused outright, not merely too narrow
		}
	}
	retry, err := t.authorize(ctx, need)
	if err != nil {
		if errors.Is(err, ErrBadCredentials) && t.anonymous(ctx) {
			// A token realm that refuses anonymous requests says what the
			// 401 says: credentials are needed. The answer goes back as
			// the registry gave it, for the caller to name the login.
			return resp, nil
		}
		hoisttransport.Drain(resp)
		return nil, err
	}
	if retry == "" || retry == authz {
		return resp, nil // nothing better to offer
	}
	if !replayable {
		hoisttransport.Drain(resp)
		return nil, fmt.Errorf("%s %s: the registry asks for authentication, but the %w (set Request.GetBody)", req.Method, errcode.RedactURL(req.URL), ErrBodyNotReplayable)
	}
	var body io.ReadCloser
	if hasBody {
		if body, err = req.GetBody(); err != nil {
			hoisttransport.Drain(resp)
			return nil, fmt.Errorf("%s %s: re-reading the request body: %w", req.Method, errcode.RedactURL(req.URL), err)
		}
	}
	hoisttransport.Drain(resp)
	return t.base.RoundTrip(withAuthorization(req, retry, body))
}

// plain sends a request to a host that may not receive credentials over
// plain http, without any; a challenge in the answer becomes an error.
func (t *transport) plain(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || len(challengesOf(resp.Header)) == 0 {
		return resp, err
	}
	hoisttransport.Drain(resp)
	return nil, &hoisttransport.OptionHint{
		Err:    fmt.Errorf("%s asks for authentication over plain http: %w to a host that is not on loopback; use https", t.host, ErrPlainHTTP),
		Action: "if it really has no TLS, allow plain http", Option: "hosts.Config.Insecure (and auth.WithPlainHTTPAllowed)", Value: t.host,
	}
}

// answeredBare reports whether resp, the answer to req sent without
// credentials, teaches what the GET /v2/ of ping would: the registry
// served a request of its API without asking for authentication (a 2xx,
// or a 404 such as a new repository's NAME_UNKNOWN: it looked, it did not
// refuse). A write the registry guards all the same meets its 401 later
// and is answered then, as after a ping that answered 200: the first
// write of a push (the upload POST) has no body, and one with a body is
// re-sent through GetBody.
func answeredBare(req *http.Request, resp *http.Response) bool {
	if !strings.HasPrefix(req.URL.Path, "/v2/") {
		return false
	}
	return resp.StatusCode >= 200 && resp.StatusCode < 300 || resp.StatusCode == http.StatusNotFound
}

// ping learns the host's challenge with GET /v2/, unless a concurrent
// request learned it meanwhile.
func (t *transport) ping(ctx context.Context, u *url.URL) error {
	t.pingMu.Lock()
	defer t.pingMu.Unlock()
	if t.knownScheme() != "" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/v2/"}).String(), nil)
	if err != nil {
		return err
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return fmt.Errorf("%s: learning how to authenticate: %w", t.host, err)
	}
	hoisttransport.Drain(resp)
	if c, ok := pickChallenge(challengesOf(resp.Header)); ok && resp.StatusCode == http.StatusUnauthorized {
		t.learn(c)
	} else {
		t.noAuth()
	}
	return nil
}

// noAuth records that the host asked for no authentication, unless a
// challenge was learned already.
func (t *transport) noAuth() {
	t.mu.Lock()
	if t.scheme == "" {
		t.scheme = "none"
	}
	t.mu.Unlock()
}

// authorize returns the Authorization value for a request needing scopes
// under the host's known challenge, or "" when none applies.
func (t *transport) authorize(ctx context.Context, scopes scopeSet) (string, error) {
	t.mu.Lock()
	scheme, realm, service := t.scheme, t.realm, t.service
	t.mu.Unlock()
	switch scheme {
	case "basic":
		c, err := t.credential(ctx)
		if err != nil || c.Password == "" {
			return "", err
		}
		return basicAuth(c.Username, c.Password), nil
	case "bearer":
		c, err := t.credential(ctx)
		if err != nil {
			return "", err
		}
		if c.RegistryToken != "" {
			return "Bearer " + c.RegistryToken, nil
		}
		own := c
		if c, err = t.realmCredential(ctx, c, realm); err != nil {
			return "", err
		}
		tok, err := t.tokens.get(ctx, realm, service, scopes, t.o.clock.Now, func(ctx context.Context) (issued, error) {
			is, err := tokenClient{base: t.base, o: &t.o}.fetch(ctx, tokenRequest{realm: realm, service: service, scopes: scopes.strings(), cred: c})
			if err == nil && is.refreshToken != "" && c.IdentityToken != "" && c == own {
				t.mu.Lock()
				t.cred.IdentityToken = is.refreshToken // the server rotated it
				t.mu.Unlock()
			}
			return is, err
		})
		if err != nil {
			return "", fmt.Errorf("%s: getting a token: %w", t.host, err)
		}
		return "Bearer " + tok, nil
	}
	return "", nil
}

// credential returns the Keychain's credential for the host, asking once.
func (t *transport) credential(ctx context.Context) (Credential, error) {
	t.mu.Lock()
	if t.cred != nil {
		c := *t.cred
		t.mu.Unlock()
		return c, nil
	}
	t.mu.Unlock()
	c, err := t.creds.Get(ctx, t.keyHost)
	if err != nil {
		return Credential{}, fmt.Errorf("credentials for %s: %w", t.host, err)
	}
	t.mu.Lock()
	if t.cred == nil {
		t.cred = &c
	}
	c = *t.cred
	t.mu.Unlock()
	return c, nil
}

// anonymous reports whether the host has no credential to offer.
func (t *transport) anonymous(ctx context.Context) bool {
	c, err := t.credential(ctx)
	return err == nil && c.IsZero()
}

func (t *transport) knownScheme() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.scheme
}

// learn remembers the host's challenge for later requests.
func (t *transport) learn(c Challenge) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.scheme = c.Scheme
	if c.Scheme == "bearer" {
		t.realm, t.service = c.Params["realm"], c.Params["service"]
	}
}

// pickChallenge prefers Bearer (with a realm) to Basic and ignores schemes
// hoist does not speak.
func pickChallenge(cs []Challenge) (Challenge, bool) {
	var basic *Challenge
	for i, c := range cs {
		switch {
		case c.Scheme == "bearer" && c.Params["realm"] != "":
			return c, true
		case c.Scheme == "basic" && basic == nil:
			basic = &cs[i]
		}
	}
	if basic != nil {
		return *basic, true
	}
	return Challenge{}, false
}

// withAuthorization returns a shallow copy of req with its own headers,
// Authorization set to authz (when not ""), and body (when not nil).
func withAuthorization(req *http.Request, authz string, body io.ReadCloser) *http.Request {
	if authz == "" && body == nil {
		return req
	}
	r := req.Clone(req.Context())
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	if body != nil {
		r.Body = body
	}
	return r
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// hostMatches reports whether u names host, default ports aside.
func hostMatches(u *url.URL, host string) bool {
	if strings.EqualFold(u.Host, host) {
		return true
	}
	return hoisttransport.SameOrigin(u, &url.URL{Scheme: u.Scheme, Host: host})
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
