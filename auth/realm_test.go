package auth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// realmPair is a registry on 127.0.0.1 whose Bearer realm is a token
// server on localhost: another host by name, as a hostile registry would
// name one.
type realmPair struct {
	registry, realm *httptest.Server
	mu              sync.Mutex
	realmAuth       []string // Authorization headers the realm received
}

func newRealmPair(t *testing.T) *realmPair {
	p := &realmPair{}
	p.realm = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.realmAuth = append(p.realmAuth, r.Header.Get("Authorization"))
		p.mu.Unlock()
		fmt.Fprint(w, `{"token":"tok"}`)
	}))
	t.Cleanup(p.realm.Close)
	realmURL := strings.Replace(p.realm.URL, "127.0.0.1", "localhost", 1) + "/token"
	p.registry = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer tok" {
			w.Write([]byte("{}"))
			return
		}
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service="reg"`, realmURL))
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(p.registry.Close)
	return p
}

func (p *realmPair) host() string { return strings.TrimPrefix(p.registry.URL, "http://") }

// TestRealmOnAnotherHost: the registry's password never goes to a token
// realm on another host; the realm is asked with its own credential when
// the keychain has one, else anonymously (oras-go GHSA-xf85-363p-868w).
func TestRealmOnAnotherHost(t *testing.T) {
	registryCred := Credential{Username: "alice", Password: "registry-secret"}
	for name, tc := range map[string]struct {
		keychain func(p *realmPair) Keychain
		want     string // Authorization the realm may see
	}{
		"static credential": {func(*realmPair) Keychain { return Static(registryCred) }, ""},
		"keychain without the realm's host": {func(p *realmPair) Keychain {
			return KeychainFunc(func(_ context.Context, h string) (Credential, error) {
				if h == p.host() {
					return registryCred, nil
				}
				return Credential{}, nil
			})
		}, ""},
		"keychain with the realm's own credential": {func(p *realmPair) Keychain {
			return KeychainFunc(func(_ context.Context, h string) (Credential, error) {
				if h == p.host() {
					return registryCred, nil
				}
				return Credential{Username: "bob", Password: "realm-secret"}, nil
			})
		}, basicAuth("bob", "realm-secret")},
	} {
		t.Run(name, func(t *testing.T) {
			p := newRealmPair(t)
			c := newClient(NewTransport(&http.Transport{}, p.host(), tc.keychain(p)))
			expect(t, do(t, c, http.MethodGet, p.registry.URL+"/v2/app/tags/list", nil), http.StatusOK)
			p.mu.Lock()
			defer p.mu.Unlock()
			if len(p.realmAuth) == 0 {
				t.Fatal("the realm was not asked")
			}
			for _, a := range p.realmAuth {
				if a != tc.want {
					t.Errorf("the realm received Authorization %q, want %q", a, tc.want)
				}
				if strings.Contains(a, basicAuth("alice", "registry-secret")) {
					t.Error("the registry's password reached the realm on another host")
				}
			}
		})
	}
}

func TestSameSite(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"registry-1.docker.io", "auth.docker.io", true},
		{"registry.gitlab.com", "gitlab.com", true},
		{"ghcr.io", "ghcr.io", true},
		{"registry.example.com", "auth.evil.example", false},
		{"a.github.io", "b.github.io", false}, // github.io is a public suffix
		{"127.0.0.1", "localhost", false},
		{"127.0.0.1", "127.0.0.1", true},
		{"reg.corp.example.co.uk", "sso.corp.example.co.uk", true},
	} {
		if got := sameSite(tc.a, tc.b); got != tc.same {
			t.Errorf("sameSite(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}
