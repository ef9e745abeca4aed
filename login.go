package hoist

import (
	"context"
	"fmt"

	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/legacy"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store/remote"
)

// Login checks username and password against server (a registry host, or
// "" for Docker Hub) and, only if the registry accepts them, stores them
// in the session's keychain, which must be an auth.Store (docker's config
// is: the credential helper it names for server, else config.json). A v2
// registry must grant a token (or answer /v2/ with 200 for Basic); a v1
// registry is logged in to through its users/ endpoint, which may create
// an account (legacy.AccountCreated; WithEmail gives its address). When
// the check fails nothing is stored.
func (s *Session) Login(ctx context.Context, server, username, password string, opts ...Option) (legacy.LoginStatus, error) {
	o, err := s.call(opts)
	if err != nil {
		return 0, err
	}
	st, ok := s.keychain.(auth.Store)
	if !ok {
		return 0, fmt.Errorf("the session's keychain (%T) cannot store credentials; Login needs an auth.Store", s.keychain)
	}
	if server == "" {
		server = reference.DefaultRegistry
	}
	host := auth.NormalizeHost(server)
	p := remote.V2
	if !reference.IsDockerHub(host) { // Docker Hub's v2 answers; its v1 login is gone
		if p, err = s.Protocol(ctx, host); err != nil {
			return 0, err
		}
	}
	status := legacy.LoginSucceeded
	var v auth.Verifier
	if p == remote.V1 {
		report := func(_ string, got legacy.LoginStatus) { status = got }
		v = legacy.NewVerifier(o.email, report, legacy.WithTransport(s.tr))
	} else {
		v = auth.NewV2Verifier(s.tr, s.authOptions()...)
	}
	cred := auth.Credential{Username: username, Password: password}
	if err := auth.Login(ctx, st, server, cred, v); err != nil {
		return 0, err
	}
	s.forgetClient(host)
	return status, nil
}

// Logout erases the credentials stored for server ("" for Docker Hub). It
// returns an error matching auth.ErrNotLoggedIn when there were none.
func (s *Session) Logout(ctx context.Context, server string) error {
	st, ok := s.keychain.(auth.Store)
	if !ok {
		return fmt.Errorf("the session's keychain (%T) cannot erase credentials; Logout needs an auth.Store", s.keychain)
	}
	if server == "" {
		server = reference.DefaultRegistry
	}
	host := auth.NormalizeHost(server)
	if err := st.Erase(ctx, host); err != nil {
		return err
	}
	s.forgetClient(host)
	return nil
}

// forgetClient drops the client of host, whose credentials changed: its
// auth transport remembers what it was granted (or that it had nothing).
func (s *Session) forgetClient(host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clients, host)
	delete(s.clients, reference.APIHost(host))
}
