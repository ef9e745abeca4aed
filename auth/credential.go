package auth

import (
	"context"
	"errors"
	"fmt"
)

// Credential is what hoist knows about one registry login. The zero value
// means anonymous.
type Credential struct {
	// Username and Password are sent with Basic auth, and to a token realm.
	Username string
	Password string
	// IdentityToken is an OAuth2 refresh token (docker's "identitytoken"):
	// when set, tokens are obtained with grant_type=refresh_token and
	// Password is not used.
	IdentityToken string
	// RegistryToken is a bearer token sent to the registry as is (docker's
	// "registrytoken"), without asking a token server.
	RegistryToken string
}

// IsZero reports whether c carries no secret at all (anonymous).
func (c Credential) IsZero() bool {
	return c.Password == "" && c.IdentityToken == "" && c.RegistryToken == ""
}

// String describes c without its secrets, so a Credential printed by
// mistake leaks nothing.
func (c Credential) String() string {
	switch {
	case c.RegistryToken != "":
		return "registry token [redacted]"
	case c.IdentityToken != "":
		return fmt.Sprintf("user %q with identity token [redacted]", c.Username)
	case c.Password != "":
		return fmt.Sprintf("user %q with password [redacted]", c.Username)
	}
	return "anonymous"
}

// GoString is String, for %#v.
func (c Credential) GoString() string { return "auth.Credential{" + c.String() + "}" }

// Keychain finds the credential for a registry host.
type Keychain interface {
	// Get returns the credential for host ("host" or "host:port"; URLs and
	// Docker Hub aliases are normalised). When nothing is known about host
	// it returns the zero Credential and a nil error; an error means a
	// source exists but could not be read. Implementations are safe for
	// concurrent use.
	Get(ctx context.Context, host string) (Credential, error)
}

// Store is a Keychain that can also save and remove credentials.
type Store interface {
	Keychain
	// Put saves c as the credential for host, replacing any other.
	Put(ctx context.Context, host string, c Credential) error
	// Erase removes the credential for host. It returns an error wrapping
	// ErrNotLoggedIn when there was nothing to remove.
	Erase(ctx context.Context, host string) error
}

// KeychainFunc adapts a function to the Keychain interface.
type KeychainFunc func(ctx context.Context, host string) (Credential, error)

// Get calls f.
func (f KeychainFunc) Get(ctx context.Context, host string) (Credential, error) { return f(ctx, host) }

// Static returns a Keychain that answers c for every host. It suits a
// transport built for one host, e.g. with --username/--password flags. A
// token realm on another site than that host is not given c (see
// NewTransport).
func Static(c Credential) Keychain { return staticKeychain{c} }

type staticKeychain struct{ c Credential }

func (s staticKeychain) Get(context.Context, string) (Credential, error) { return s.c, nil }

var (
	// ErrNotLoggedIn is wrapped by Erase when no credential was stored.
	ErrNotLoggedIn = errors.New("not logged in")
	// ErrBadCredentials is wrapped when a registry or its token server
	// rejects the credentials (a wrong username, password or token).
	ErrBadCredentials = errors.New("credentials rejected")
	// ErrPlainHTTP is wrapped when credentials would have to travel over
	// plain http to a host that is not allowed it.
	ErrPlainHTTP = errors.New("refusing to send credentials over plain http")
	// ErrBodyNotReplayable is wrapped when a request must be re-sent with
	// credentials but its body cannot be read again (no Request.GetBody).
	ErrBodyNotReplayable = errors.New("request body cannot be re-sent")
)
