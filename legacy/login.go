package legacy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/transport"
)

// LoginStatus is the outcome of a successful Login.
type LoginStatus int

const (
	// LoginSucceeded: the index accepted the credentials.
	LoginSucceeded LoginStatus = iota + 1
	// AccountCreated: the index registered a new account with these
	// credentials, which must be activated (the original index mailed a
	// confirmation link) before it can log in or push.
	AccountCreated
)

// String returns the message the original client printed.
func (s LoginStatus) String() string {
	switch s {
	case LoginSucceeded:
		return "Login Succeeded"
	case AccountCreated:
		return "Account created. Please use the confirmation link we sent to your e-mail to activate it."
	}
	return "unknown login status"
}

// msgUserExists is the 400 answer of POST users/ for a taken name or
// email.
const msgUserExists = "Username or email already exists"

// Login logs in to the index's users/ endpoint as the original client did:
//
//  1. POST users/ with {"username", "password", "email"}: 201 registered a
//     new account (AccountCreated); 400 "Username or email already exists"
//     and 401 (registration closed, users/ protected) go on to step 2; any
//     other 400 is a registration error showing the index's message;
//     anything else is an error.
//  2. GET users/ with Basic credentials: 200 is LoginSucceeded; 401 is a
//     wrong login or password (auth.ErrBadCredentials); 403 after a 400 is
//     an account not yet activated (ErrAccountInactive, which also wraps
//     auth.ErrBadCredentials); anything else is an error with the index's
//     answer.
//
// With an empty email there is nothing to register with: Login goes to
// step 2 directly and reads 403 as an inactive account, as after a 400.
// Nothing is stored; see NewVerifier for `hoist login`.
func (c *Client) Login(ctx context.Context, cred auth.Credential, email string) (LoginStatus, error) {
	if cred.Username == "" || cred.Password == "" {
		return 0, fmt.Errorf("v1 login to %s needs a username and a password", c.index.Host)
	}
	u := resolve(c.index, "users/")
	existed := true
	if email != "" {
		body, _ := json.Marshal(struct {
			Username string `json:"username"`
			Password string `json:"password"`
			Email    string `json:"email"`
		}{cred.Username, cred.Password, email})
		hdr := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
		resp, err := transport.Send(ctx, c.hc, http.MethodPost, u, hdr, bytes.NewReader(body), int64(len(body)))
		if err != nil {
			return 0, fmt.Errorf("v1 login to %s: %w", c.index.Host, err)
		}
		switch resp.StatusCode {
		case http.StatusCreated:
			transport.Drain(resp)
			return AccountCreated, nil
		case http.StatusBadRequest:
			b := readErrorBody(resp)
			if msg := registryMessage(b); msg != msgUserExists && string(bytes.TrimSpace(b)) != msgUserExists {
				return 0, fmt.Errorf("v1 login to %s: registration refused: %w", c.index.Host, errorFromBody(resp, b))
			}
		case http.StatusUnauthorized:
			transport.Drain(resp)
			existed = false
		default:
			return 0, fmt.Errorf("v1 login to %s: unexpected answer to the registration: %w", c.index.Host, errcode.FromResponse(resp))
		}
	}

	hdr := http.Header{"Authorization": {basicAuth(cred)}}
	resp, err := transport.Send(ctx, c.hc, http.MethodGet, u, hdr, nil, 0)
	if err != nil {
		return 0, fmt.Errorf("v1 login to %s: %w", c.index.Host, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		transport.Drain(resp)
		return LoginSucceeded, nil
	case resp.StatusCode == http.StatusUnauthorized:
		return 0, fmt.Errorf("v1 login to %s: wrong login or password: %w: %w", c.index.Host, auth.ErrBadCredentials, errcode.FromResponse(resp))
	case resp.StatusCode == http.StatusForbidden && existed:
		return 0, fmt.Errorf("v1 login to %s: %w (%w): activate it with the link the registry sent, then log in again: %w",
			c.index.Host, ErrAccountInactive, auth.ErrBadCredentials, errcode.FromResponse(resp))
	}
	return 0, fmt.Errorf("v1 login to %s: %w", c.index.Host, errcode.FromResponse(resp))
}

// NewVerifier returns the auth.Verifier for v1 registries, for `hoist
// login` through auth.Login. Verify(ctx, server, c) runs Client.Login
// against server (see ParseEndpoint; Docker Hub's names mean the public
// index) with email, and accepts c when the index accepted it or
// registered it: the original client also kept the credentials of a new
// account, which work once it is activated. report, when not nil, is told
// which of the two happened, so the CLI can say "Login Succeeded" or ask
// for the activation. Verify never exchanges the credential: it returns c.
//
// The options configure the Client that Verify builds (WithTransport in
// particular).
func NewVerifier(email string, report func(server string, s LoginStatus), opts ...Option) auth.Verifier {
	return auth.VerifierFunc(func(ctx context.Context, server string, cred auth.Credential) (auth.Credential, error) {
		c, err := NewClient(server, opts...)
		if err != nil {
			return auth.Credential{}, err
		}
		st, err := c.Login(ctx, cred, email)
		if err != nil {
			return auth.Credential{}, err
		}
		if report != nil {
			report(server, st)
		}
		return cred, nil
	})
}
