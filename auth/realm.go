package auth

import (
	"context"
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// realmCredential returns the credential that may go to the token realm
// of the registry host: the registry's own c when the realm is on the
// registry's site (the same host, or the same registrable domain, as
// auth.docker.io is for registry-1.docker.io and gitlab.com for
// registry.gitlab.com); otherwise only a credential the keychain holds
// for the realm's host itself, and none when it holds none. A registry
// cannot make hoist hand its users' passwords to a host of its choosing
// (the token-realm leak of GHSA-xf85-363p-868w); the realm is then asked
// anonymously, and its refusal names it.
func (t *transport) realmCredential(ctx context.Context, c Credential, realm string) (Credential, error) {
	u, err := url.Parse(realm)
	if err != nil || u.Host == "" {
		return c, nil // fetch refuses the realm, naming it
	}
	if sameSite(u.Hostname(), hostnameOf(t.host)) {
		return c, nil
	}
	if _, static := t.creds.(staticKeychain); static {
		return Credential{}, nil // it answers for every host: not the realm's own
	}
	return t.creds.Get(ctx, u.Host)
}

// hostnameOf is host without its port.
func hostnameOf(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// sameSite reports whether hostnames a and b are the same, or share a
// registrable domain (eTLD+1 by the public suffix list). IP addresses and
// names without a registrable domain (localhost) match only themselves.
func sameSite(a, b string) bool {
	a, b = strings.ToLower(strings.TrimSuffix(a, ".")), strings.ToLower(strings.TrimSuffix(b, "."))
	if a == b {
		return true
	}
	if net.ParseIP(a) != nil || net.ParseIP(b) != nil {
		return false
	}
	da, err1 := publicsuffix.EffectiveTLDPlusOne(a)
	db, err2 := publicsuffix.EffectiveTLDPlusOne(b)
	return err1 == nil && err2 == nil && da == db
}
