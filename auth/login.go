package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	hoisttransport "github.com/hoist-dev/hoist/transport"
)

// Verifier checks a credential against a registry before Login stores it.
// The v2 one is NewV2Verifier; a v1 ("users/") verifier implements the same
// interface elsewhere.
type Verifier interface {
	// Verify returns the credential to store for server: c itself, or what
	// the registry exchanged it for (an identity token in place of the
	// password). An error wrapping ErrBadCredentials means the registry
	// refused c; any other error means the check itself failed.
	Verify(ctx context.Context, server string, c Credential) (Credential, error)
}

// VerifierFunc adapts a function to the Verifier interface.
type VerifierFunc func(ctx context.Context, server string, c Credential) (Credential, error)

// Verify calls f.
func (f VerifierFunc) Verify(ctx context.Context, server string, c Credential) (Credential, error) {
	return f(ctx, server, c)
}

// Login verifies c for server with v and, only when v accepts it, stores
// what v returns in store under server's host. server is "host",
// "host:port" or a URL ("https://host/v1/"); Docker Hub aliases are stored
// under docker's Hub key. On any error nothing is stored.
func Login(ctx context.Context, store Store, server string, c Credential, v Verifier) error {
	host := NormalizeHost(server)
	if host == "" {
		return errors.New("login: no registry named")
	}
	if c.IsZero() {
		return fmt.Errorf("login to %s: a password or token is needed", host)
	}
	if c.Username == "" && c.Password != "" {
		return fmt.Errorf("login to %s: a username is needed with a password", host)
	}
	if strings.Contains(c.Username, ":") {
		return fmt.Errorf("login to %s: a username cannot contain ':'", host)
	}
	verified, err := v.Verify(ctx, server, c)
	if err != nil {
		return fmt.Errorf("login to %s: %w", host, err)
	}
	if err := store.Put(ctx, host, verified); err != nil {
		return fmt.Errorf("login to %s succeeded, but storing the credentials failed: %w", host, err)
	}
	return nil
}

// v2Verifier checks credentials against a registry's /v2/ endpoint.
type v2Verifier struct {
	base http.RoundTripper
	o    options
}

// NewV2Verifier returns the Verifier for OCI/v2 registries. It sends GET
// /v2/ through base (nil means http.DefaultTransport) and answers the
// challenge: with Basic, the credentials must make /v2/ answer 200; with
// Bearer, the token realm must issue a token (asked with offline_token=true,
// or with the refresh_token grant for an identity token) that /v2/ then
// accepts. When the token server returns a refresh token, Verify returns it
// as the IdentityToken to store in place of the password, as docker does.
// A registry that answers 200 without credentials accepts any.
//
// The server's scheme, when given as "http://host", is used only for hosts
// WithPlainHTTPAllowed allows; otherwise https.
func NewV2Verifier(base http.RoundTripper, opts ...Option) Verifier {
	if base == nil {
		base = http.DefaultTransport
	}
	return &v2Verifier{base: base, o: buildOptions(opts)}
}

func (v *v2Verifier) Verify(ctx context.Context, server string, c Credential) (Credential, error) {
	scheme := "https"
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(server)), "http://") {
		scheme = "http"
	}
	host := endpointHost(server)
	if scheme == "http" && !v.o.plainHTTP(host) {
		return Credential{}, fmt.Errorf("%w to %s, which is not on loopback; use https, or mark it insecure", ErrPlainHTTP, host)
	}
	ping := (&url.URL{Scheme: scheme, Host: host, Path: "/v2/"}).String()
	resp, err := v.get(ctx, ping, "")
	if err != nil {
		return Credential{}, err
	}
	if resp.StatusCode == http.StatusOK {
		return c, nil
	}
	if resp.StatusCode != http.StatusUnauthorized {
		return Credential{}, fmt.Errorf("GET %s answered %s; is %s a v2 registry?", ping, resp.Status, host)
	}
	ch, ok := pickChallenge(challengesOf(resp.Header))
	if !ok {
		return Credential{}, fmt.Errorf("GET %s answered 401 without a Basic or Bearer challenge: %q", ping, resp.Header.Values("WWW-Authenticate"))
	}
	store := c
	var authz string
	switch {
	case ch.Scheme == "basic":
		if c.Password == "" {
			return Credential{}, fmt.Errorf("%s uses Basic auth, which needs a password", host)
		}
		authz = basicAuth(c.Username, c.Password)
	case c.RegistryToken != "":
		authz = "Bearer " + c.RegistryToken
	default:
		is, err := tokenClient{base: v.base, o: &v.o}.fetch(ctx, tokenRequest{
			realm: ch.Params["realm"], service: ch.Params["service"], scopes: strings.Fields(ch.Params["scope"]),
			cred: c, offline: true,
		})
		if err != nil {
			return Credential{}, err
		}
		authz = "Bearer " + is.token
		if is.refreshToken != "" {
			store = Credential{Username: c.Username, IdentityToken: is.refreshToken}
		}
	}
	resp, err = v.get(ctx, ping, authz)
	if err != nil {
		return Credential{}, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return store, nil
	case http.StatusUnauthorized:
		return Credential{}, fmt.Errorf("%s refused %s: %w", host, c, ErrBadCredentials)
	}
	return Credential{}, fmt.Errorf("GET %s with credentials answered %s", ping, resp.Status)
}

// get sends GET u with authz (if any) and returns the answer, its body
// already drained and closed.
func (v *v2Verifier) get(ctx context.Context, u, authz string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	client := &http.Client{Transport: v.base, CheckRedirect: safeRedirect}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	hoisttransport.Drain(resp)
	return resp, nil
}
