package auth

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/testutil"
)

func TestLoginV2(t *testing.T) {
	ts := testutil.NewTokenServer(t, alice, time.Hour, false)
	regs := map[string]*testutil.Registry{
		"basic":  testutil.NewRegistry(t, testutil.WithHtpasswd(alice)),
		"bearer": testutil.NewRegistry(t, testutil.WithTokenAuth(ts)),
		"open":   testutil.NewRegistry(t),
	}
	good := Credential{Username: "alice", Password: "secret"}
	bad := Credential{Username: "alice", Password: "wrong"}
	tests := []struct {
		name, reg string
		cred      Credential
		wantErr   error
		// stored checks what the store holds afterwards.
		stored func(t *testing.T, c Credential)
	}{
		{name: "basic", reg: "basic", cred: good, stored: func(t *testing.T, c Credential) {
			if c != good {
				t.Errorf("stored %#v", c)
			}
		}},
		{name: "bearer stores the identity token", reg: "bearer", cred: good, stored: func(t *testing.T, c Credential) {
			if c.Username != "alice" || c.Password != "" || !strings.HasSuffix(c.IdentityToken, "-refresh") {
				t.Errorf("stored %#v, want alice's refresh token and no password", c)
			}
		}},
		{name: "open registry", reg: "open", cred: good, stored: func(t *testing.T, c Credential) {
			if c != good {
				t.Errorf("stored %#v", c)
			}
		}},
		{name: "basic wrong password", reg: "basic", cred: bad, wantErr: ErrBadCredentials},
		{name: "bearer wrong password", reg: "bearer", cred: bad, wantErr: ErrBadCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFiles(t)
			writeFile(t, f.config, richConfig)
			reg := regs[tt.reg]
			err := Login(context.Background(), f.store, "http://"+reg.Host, tt.cred, NewV2Verifier(&http.Transport{}))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || strings.Contains(err.Error(), tt.cred.Password) {
					t.Fatalf("Login: %v, want %v without the password", err, tt.wantErr)
				}
				if !bytes.Equal(readFile(t, f.config), []byte(richConfig)) {
					t.Fatal("a failed login changed config.json")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, err := f.store.Get(context.Background(), reg.Host)
			if err != nil {
				t.Fatal(err)
			}
			tt.stored(t, c)
		})
	}
}

// What a bearer login stores is enough to push later, through the
// refresh_token grant.
func TestLoginThenPush(t *testing.T) {
	ts := testutil.NewTokenServer(t, alice, time.Hour, false)
	reg := testutil.NewRegistry(t, testutil.WithTokenAuth(ts))
	f := newFiles(t)
	ctx := context.Background()
	if err := Login(ctx, f.store, reg.Host, Credential{Username: "alice", Password: "secret"}, NewV2Verifier(&http.Transport{})); err == nil {
		t.Fatal("login over https to a plain http registry succeeded")
	}
	if err := Login(ctx, f.store, "http://"+reg.Host, Credential{Username: "alice", Password: "secret"}, NewV2Verifier(&http.Transport{})); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(readFile(t, f.config)), b64("alice:secret")) {
		t.Fatal("the password was stored although the registry gave an identity token")
	}
	c := newClient(NewTransport(&http.Transport{}, reg.Host, f.store))
	pushBlob(t, c, reg.URL, "team/app", []byte("after login"))
	reqs := ts.Requests()
	if first := reqs[0]; first.Method != http.MethodGet || first.User != "alice" {
		t.Errorf("login's token request %+v", first)
	}
	for _, r := range reqs[1:] {
		if r.GrantType != "refresh_token" || r.Status != http.StatusOK {
			t.Errorf("token request after login %+v, want a refresh_token grant", r)
		}
	}
}

func TestLoginRefusesPlainHTTP(t *testing.T) {
	reg := testutil.NewRegistry(t, testutil.WithHtpasswd(alice))
	f := newFiles(t)
	v := NewV2Verifier(&http.Transport{}, WithPlainHTTPAllowed(func(string) bool { return false }))
	err := Login(context.Background(), f.store, "http://"+reg.Host, Credential{Username: "alice", Password: "secret"}, v)
	if !errors.Is(err, ErrPlainHTTP) {
		t.Fatalf("err = %v, want ErrPlainHTTP", err)
	}
}

// A v1 verifier (package legacy) plugs in through the Verifier interface.
func TestLoginWithOtherVerifier(t *testing.T) {
	f := newFiles(t)
	writeFile(t, f.config, richConfig)
	ctx := context.Background()
	refuse := VerifierFunc(func(context.Context, string, Credential) (Credential, error) {
		return Credential{}, errors.New("wrong login or password (401 from users/)")
	})
	if err := Login(ctx, f.store, "https://index.docker.io/v1/", Credential{Username: "u", Password: "p"}, refuse); err == nil {
		t.Fatal("refused login succeeded")
	}
	if !bytes.Equal(readFile(t, f.config), []byte(richConfig)) {
		t.Fatal("a failed login changed config.json")
	}
	var gotServer string
	accept := VerifierFunc(func(_ context.Context, server string, c Credential) (Credential, error) {
		gotServer = server
		return c, nil
	})
	if err := Login(ctx, f.store, "https://index.docker.io/v1/", Credential{Username: "u", Password: "p"}, accept); err != nil {
		t.Fatal(err)
	}
	if gotServer != "https://index.docker.io/v1/" {
		t.Errorf("the verifier was given %q", gotServer)
	}
	if c, _ := f.store.Get(ctx, "docker.io"); c != (Credential{Username: "u", Password: "p"}) {
		t.Errorf("stored %#v", c)
	}
	for _, c := range []Credential{{}, {Password: "p"}, {Username: "a:b", Password: "p"}} {
		if err := Login(ctx, f.store, "reg.example", c, accept); err == nil {
			t.Errorf("Login accepted %#v", c)
		}
	}
}
