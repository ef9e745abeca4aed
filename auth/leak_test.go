package auth

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// blobRedirect sends blob GETs to another host, as registries backed by
// object storage do.
func blobRedirect(target string) func(http.Handler) http.Handler {
	blob := regexp.MustCompile(`^/v2/.+/blobs/sha256:[0-9a-f]{64}$`)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && blob.MatchString(r.URL.Path) && r.Header.Get("Authorization") != "" {
				http.Redirect(w, r, target+"/storage/blob?X-Amz-Signature=abc", http.StatusTemporaryRedirect)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func TestRedirectGetsNoAuthorization(t *testing.T) {
	data := []byte("stored elsewhere")
	var mu sync.Mutex
	var seen []string // Authorization headers that reached the storage host
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Write(data)
	}))
	t.Cleanup(storage.Close)

	ts := testutil.NewTokenServer(t, alice, time.Hour, false)
	for name, auth := range map[string]testutil.RegistryOption{
		"basic":  testutil.WithHtpasswd(alice),
		"bearer": testutil.WithTokenAuth(ts),
	} {
		t.Run(name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			rec := &recorder{}
			reg := testutil.NewRegistry(t, auth, testutil.WithMiddleware(func(h http.Handler) http.Handler {
				return rec.wrap(blobRedirect(storage.URL)(h))
			}))
			c := newClient(NewTransport(&http.Transport{}, reg.Host, Static(Credential{Username: "alice", Password: "secret"})))
			d := pushBlob(t, c, reg.URL, "team/app", data)
			got := expect(t, do(t, c, http.MethodGet, reg.URL+"/v2/team/app/blobs/"+d, nil), http.StatusOK)
			if !bytes.Equal(got, data) {
				t.Fatalf("blob = %q", got)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(seen) != 1 || seen[0] != "" {
				t.Fatalf("the storage host saw Authorization %q, want one request without it", seen)
			}
			hits := rec.all()
			if last := hits[len(hits)-1]; last.status != http.StatusTemporaryRedirect || last.authz == "" {
				t.Fatalf("the registry's last answer %+v, want an authenticated redirect", last)
			}
		})
	}
}

func TestNoCredentialsOverPlainHTTP(t *testing.T) {
	never := WithPlainHTTPAllowed(func(string) bool { return false })
	cred := Static(Credential{Username: "alice", Password: "secret"})

	t.Run("registry host not allowed", func(t *testing.T) {
		rec := &recorder{}
		reg := testutil.NewRegistry(t, testutil.WithHtpasswd(alice), testutil.WithMiddleware(rec.wrap))
		c := newClient(NewTransport(&http.Transport{}, reg.Host, cred, never))
		_, err := c.Get(reg.URL + "/v2/")
		if !errors.Is(err, ErrPlainHTTP) {
			t.Fatalf("err = %v, want ErrPlainHTTP", err)
		}
		for _, h := range rec.all() {
			if h.authz != "" {
				t.Fatalf("the registry received Authorization over http: %+v", h)
			}
		}
	})

	t.Run("token realm not allowed", func(t *testing.T) {
		ts := testutil.NewTokenServer(t, alice, time.Hour, false)
		reg := testutil.NewRegistry(t, testutil.WithTokenAuth(ts))
		onlyRegistry := WithPlainHTTPAllowed(func(h string) bool { return h == reg.Host })
		c := newClient(NewTransport(&http.Transport{}, reg.Host, cred, onlyRegistry))
		_, err := c.Get(reg.URL + "/v2/team/app/tags/list")
		if !errors.Is(err, ErrPlainHTTP) {
			t.Fatalf("err = %v, want ErrPlainHTTP", err)
		}
		if reqs := ts.Requests(); len(reqs) != 0 {
			t.Fatalf("the token server was asked %+v over http", reqs)
		}
	})

	t.Run("loopback allowed by default", func(t *testing.T) {
		reg := testutil.NewRegistry(t, testutil.WithHtpasswd(alice))
		c := newClient(NewTransport(&http.Transport{}, reg.Host, cred))
		expect(t, do(t, c, http.MethodGet, reg.URL+"/v2/", nil), http.StatusOK)
	})
}

// Credentials go to the host the transport was built for, even when a
// caller sends a request for another host through it.
func TestOtherHostGetsNothing(t *testing.T) {
	var got []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization"))
		w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(other.Close)
	c := newClient(NewTransport(&http.Transport{}, "registry.example", Static(Credential{Username: "u", Password: "p"})))
	expect(t, do(t, c, http.MethodGet, other.URL+"/v2/", nil), http.StatusUnauthorized)
	if len(got) != 1 || got[0] != "" {
		t.Fatalf("another host received %q", got)
	}
}
