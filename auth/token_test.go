package auth

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// oddTokenServer is a registry plus token realm whose token answers a test
// chooses, for answers the reference token server never gives.
func oddTokenServer(t *testing.T, answer func(w http.ResponseWriter)) (host string, fetches *atomic.Int32) {
	t.Helper()
	fetches = &atomic.Int32{}
	var realm string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			fetches.Add(1)
			answer(w)
			return
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`",service="odd"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	realm = srv.URL + "/token"
	return srv.Listener.Addr().String(), fetches
}

func TestAccessTokenWithDefaultLifetime(t *testing.T) {
	host, fetches := oddTokenServer(t, func(w http.ResponseWriter) {
		json.NewEncoder(w).Encode(map[string]string{"access_token": "oauth-style"})
	})
	clock := newFakeClock()
	c := newClient(NewTransport(&http.Transport{}, host, nil, WithClock(clock)))
	get := func() {
		t.Helper()
		expect(t, do(t, c, http.MethodGet, "http://"+host+"/v2/a/manifests/x", nil), http.StatusOK)
	}
	get()
	clock.Advance(50 * time.Second)
	get()
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d token fetches within the default 60 s lifetime, want 1", n)
	}
	clock.Advance(11 * time.Second)
	get()
	if n := fetches.Load(); n != 2 {
		t.Fatalf("%d token fetches after 61 s, want 2", n)
	}
}

func TestBadTokenAnswers(t *testing.T) {
	tests := []struct {
		name    string
		answer  func(w http.ResponseWriter)
		wantErr string
	}{
		{"too large", func(w http.ResponseWriter) {
			w.Write([]byte(`{"token":"` + strings.Repeat("x", 2<<20) + `"}`))
		}, "larger than"},
		{"no token", func(w http.ResponseWriter) { w.Write([]byte(`{"expires_in":60}`)) }, `neither "token" nor "access_token"`},
		{"not JSON", func(w http.ResponseWriter) { w.Write([]byte(`<html>`)) }, "not a token document"},
		{"server error", func(w http.ResponseWriter) {
			http.Error(w, `{"details":"down","token":"leaked?"}`, http.StatusServiceUnavailable)
		}, "503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host, _ := oddTokenServer(t, tt.answer)
			c := newClient(NewTransport(&http.Transport{}, host, nil))
			_, err := c.Get("http://" + host + "/v2/")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "leaked?") {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
			}
			if errors.Is(err, ErrBadCredentials) {
				t.Fatalf("err = %v is not about credentials", err)
			}
		})
	}
}
