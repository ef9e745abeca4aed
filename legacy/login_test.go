package legacy

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/server"
)

func TestLogin(t *testing.T) {
	inactive := server.V1Account{Username: "sleepy", Password: "zzzzzz", Email: "sleepy@example.com"}
	tests := []struct {
		name    string
		opts    []server.V1Option
		cred    auth.Credential
		email   string
		want    LoginStatus
		wantErr []error
		calls   []string // method and path of each users/ call
	}{
		{"new account is created", nil,
			auth.Credential{Username: "newbie", Password: "p4ssword"}, "newbie@example.com",
			AccountCreated, nil, []string{"POST"}},
		{"existing account logs in", []server.V1Option{server.WithV1Account(foo42)},
			auth.Credential{Username: foo42.Username, Password: foo42.Password}, foo42.Email,
			LoginSucceeded, nil, []string{"POST", "GET"}},
		{"wrong password", []server.V1Option{server.WithV1Account(foo42)},
			auth.Credential{Username: foo42.Username, Password: "wrong!"}, foo42.Email,
			0, []error{auth.ErrBadCredentials}, []string{"POST", "GET"}},
		{"inactive account", []server.V1Option{server.WithV1Account(inactive)},
			auth.Credential{Username: inactive.Username, Password: inactive.Password}, inactive.Email,
			0, []error{ErrAccountInactive, auth.ErrBadCredentials}, []string{"POST", "GET"}},
		{"protected users/", []server.V1Option{server.WithV1Account(foo42), server.WithV1ProtectedUsers(true)},
			auth.Credential{Username: foo42.Username, Password: foo42.Password}, foo42.Email,
			LoginSucceeded, nil, []string{"POST", "GET"}},
		{"protected users/, wrong password", []server.V1Option{server.WithV1Account(foo42), server.WithV1ProtectedUsers(true)},
			auth.Credential{Username: foo42.Username, Password: "nope!"}, foo42.Email,
			0, []error{auth.ErrBadCredentials}, []string{"POST", "GET"}},
		{"registration error shows the index's message", nil,
			auth.Credential{Username: "x", Password: "p4ssword"}, "x@example.com",
			0, nil, []string{"POST"}},
		{"no email: log in only", []server.V1Option{server.WithV1Account(foo42)},
			auth.Credential{Username: foo42.Username, Password: foo42.Password}, "",
			LoginSucceeded, nil, []string{"GET"}},
		{"no email: inactive", []server.V1Option{server.WithV1Account(inactive)},
			auth.Credential{Username: inactive.Username, Password: inactive.Password}, "",
			0, []error{ErrAccountInactive}, []string{"GET"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			_, ts := v1Server(t, rec.wrap, tt.opts...)
			got, err := newTestClient(t, hostOf(ts)).Login(context.Background(), tt.cred, tt.email)
			var calls []string
			for _, r := range rec.all() {
				calls = append(calls, r.method)
				if r.method == http.MethodGet && r.auth == "" {
					t.Error("GET users/ without Basic credentials")
				}
				if r.method == http.MethodPost && r.auth != "" {
					t.Error("POST users/ carried credentials")
				}
			}
			if !slices.Equal(calls, tt.calls) {
				t.Errorf("users/ calls %v, want %v", calls, tt.calls)
			}
			if tt.name == "registration error shows the index's message" {
				if err == nil || !contains(err.Error(), "Invalid username") {
					t.Fatalf("err = %v, want the index's message", err)
				}
				return
			}
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want it to match %v", err, want)
				}
			}
			if tt.wantErr == nil && err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("status = %v, want %v", got, tt.want)
			}
		})
	}
}

// After creating an account and its activation, the same login succeeds.
func TestLoginCreatedThenActivated(t *testing.T) {
	srv, ts := v1Server(t, nil)
	c := newTestClient(t, hostOf(ts))
	ctx := context.Background()
	cred := auth.Credential{Username: "newbie", Password: "p4ssword"}
	if st, err := c.Login(ctx, cred, "newbie@example.com"); err != nil || st != AccountCreated {
		t.Fatalf("first login: %v, %v", st, err)
	}
	if _, err := c.Login(ctx, cred, "newbie@example.com"); !errors.Is(err, ErrAccountInactive) {
		t.Fatalf("before activation: err = %v, want ErrAccountInactive", err)
	}
	if err := srv.Activate("newbie"); err != nil {
		t.Fatal(err)
	}
	if st, err := c.Login(ctx, cred, "newbie@example.com"); err != nil || st != LoginSucceeded {
		t.Fatalf("after activation: %v, %v", st, err)
	}
}

// hoist login goes through auth.Login with the v1 verifier: credentials
// are stored only when the index accepts them.
func TestVerifierWithAuthLogin(t *testing.T) {
	_, ts := v1Server(t, nil, server.WithV1Account(foo42), server.WithV1ProtectedUsers(true))
	dir := t.TempDir()
	store := auth.NewConfigStore(auth.WithConfigDir(dir), auth.WithDockerCfg(""), auth.WithAuthFiles())
	ctx := context.Background()
	var reported []LoginStatus
	v := NewVerifier("", func(_ string, s LoginStatus) { reported = append(reported, s) }, WithTransport(testTransport(t)))

	err := auth.Login(ctx, store, hostOf(ts), auth.Credential{Username: "foo42", Password: "bad!"}, v)
	if !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("bad password: err = %v", err)
	}
	if c, _ := store.Get(ctx, hostOf(ts)); !c.IsZero() {
		t.Fatal("a refused login stored credentials")
	}
	good := auth.Credential{Username: foo42.Username, Password: foo42.Password}
	if err := auth.Login(ctx, store, hostOf(ts), good, v); err != nil {
		t.Fatal(err)
	}
	if c, err := store.Get(ctx, hostOf(ts)); err != nil || c != good {
		t.Fatalf("stored %v, %v; want the credentials", c, err)
	}
	if len(reported) != 1 || reported[0] != LoginSucceeded {
		t.Errorf("reported %v", reported)
	}
}

func TestLoginUnexpectedAnswer(t *testing.T) {
	_, ts := v1Server(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		})
	})
	_, err := newTestClient(t, hostOf(ts)).Login(context.Background(), auth.Credential{Username: "foo42", Password: "x"}, "a@b.c")
	if !errors.Is(err, errcode.ErrServer) || !contains(err.Error(), "maintenance") {
		t.Fatalf("err = %v, want the 503 with its body", err)
	}
}
