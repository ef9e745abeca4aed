package testutil

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenRequest records one request the token server answered.
type TokenRequest struct {
	Method    string   // GET or POST
	GrantType string   // "" for GET, else the form's grant_type
	User      string   // the authenticated user, "" when anonymous
	Scopes    []string // the requested scopes, as sent
	Status    int      // the status the server answered
}

// TokenServer is a Docker registry token server (the distribution token
// auth spec, GET with Basic and the OAuth2 POST form) that signs JWTs with a
// key generated for the test. A registry started WithTokenAuth trusts it.
type TokenServer struct {
	// URL is the server's base URL; the realm is URL+"/token".
	URL string
	// Service and Issuer are what the tokens carry and the registry checks.
	Service, Issuer string
	// RootCertBundle is the path of the PEM file the registry trusts.
	RootCertBundle string

	mu       sync.Mutex
	users    map[string]string
	expiry   time.Duration
	anonPull bool
	noAnon   bool
	requests []TokenRequest
	refresh  map[string]string // refresh token -> user
	key      *ecdsa.PrivateKey
	certDER  []byte
}

// NewTokenServer starts a token server for the given user/password pairs.
// Tokens last expiry (the registry adds its own 60 s leeway); anonymous
// clients get pull access only when anonPull is set.
func NewTokenServer(t testing.TB, users map[string]string, expiry time.Duration, anonPull bool) *TokenServer {
	t.Helper()
	signer := NewCA(t, "hoist test token signer")
	bundle := filepath.Join(t.TempDir(), "token-signer.pem")
	if err := os.WriteFile(bundle, signer.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	ts := &TokenServer{
		Service: "hoist-test-registry", Issuer: "hoist-test-issuer", RootCertBundle: bundle,
		users: users, expiry: expiry, anonPull: anonPull, refresh: map[string]string{},
		key: signer.Key, certDER: signer.Cert.Raw,
	}
	srv := httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(srv.Close)
	ts.URL = srv.URL
	return ts
}

// RefuseAnonymous makes the server answer 401 to every token request that
// carries no credentials, as distribution's contrib/token-server does,
// instead of issuing a token that grants nothing.
func (ts *TokenServer) RefuseAnonymous() {
	ts.mu.Lock()
	ts.noAnon = true
	ts.mu.Unlock()
}

// Requests returns a copy of the requests answered so far.
func (ts *TokenServer) Requests() []TokenRequest {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return slices.Clone(ts.requests)
}

func (ts *TokenServer) serve(w http.ResponseWriter, r *http.Request) {
	rec := TokenRequest{Method: r.Method}
	defer func() {
		ts.mu.Lock()
		ts.requests = append(ts.requests, rec)
		ts.mu.Unlock()
	}()
	fail := func(code int, msg string) {
		rec.Status = code
		http.Error(w, msg, code)
	}
	var user string
	offline := false
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		if q.Get("service") != ts.Service {
			fail(http.StatusBadRequest, "unknown service")
			return
		}
		rec.Scopes = q["scope"]
		if u, p, ok := r.BasicAuth(); ok {
			if !ts.checkPassword(u, p) {
				fail(http.StatusUnauthorized, "bad credentials")
				return
			}
			user = u
		}
		ts.mu.Lock()
		noAnon := ts.noAnon
		ts.mu.Unlock()
		if user == "" && noAnon {
			w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
			fail(http.StatusUnauthorized, "authentication required")
			return
		}
		offline = q.Get("offline_token") == "true"
	case http.MethodPost:
		if err := r.ParseForm(); err != nil {
			fail(http.StatusBadRequest, err.Error())
			return
		}
		rec.GrantType = r.PostForm.Get("grant_type")
		if r.PostForm.Get("service") != ts.Service {
			fail(http.StatusBadRequest, "unknown service")
			return
		}
		if s := r.PostForm.Get("scope"); s != "" {
			rec.Scopes = strings.Fields(s)
		}
		switch rec.GrantType {
		case "password":
			u, p := r.PostForm.Get("username"), r.PostForm.Get("password")
			if !ts.checkPassword(u, p) {
				fail(http.StatusUnauthorized, "bad credentials")
				return
			}
			user = u
			offline = r.PostForm.Get("access_type") == "offline"
		case "refresh_token":
			ts.mu.Lock()
			u, ok := ts.refresh[r.PostForm.Get("refresh_token")]
			ts.mu.Unlock()
			if !ok {
				fail(http.StatusUnauthorized, "unknown refresh token")
				return
			}
			user = u
		default:
			fail(http.StatusBadRequest, "unsupported grant_type")
			return
		}
	default:
		fail(http.StatusMethodNotAllowed, "GET or POST")
		return
	}
	rec.User = user

	var access []map[string]any
	for _, s := range rec.Scopes {
		parts := strings.Split(s, ":")
		if len(parts) < 3 {
			continue
		}
		typ, name, actions := parts[0], strings.Join(parts[1:len(parts)-1], ":"), strings.Split(parts[len(parts)-1], ",")
		var granted []string
		for _, a := range actions {
			if user != "" || (ts.anonPull && a == "pull") {
				granted = append(granted, a)
			}
		}
		if len(granted) > 0 {
			access = append(access, map[string]any{"type": typ, "name": name, "actions": granted})
		}
	}
	now := time.Now()
	claims := jwt.MapClaims{
		"iss": ts.Issuer, "sub": user, "aud": ts.Service,
		"exp": now.Add(ts.expiry).Unix(), "nbf": now.Add(-time.Minute).Unix(), "iat": now.Unix(),
		"jti":    base64.RawURLEncoding.EncodeToString(big.NewInt(serial.Add(1)).Bytes()),
		"access": access,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["x5c"] = []string{base64.StdEncoding.EncodeToString(ts.certDER)}
	signed, err := tok.SignedString(ts.key)
	if err != nil {
		fail(http.StatusInternalServerError, err.Error())
		return
	}
	resp := map[string]any{"expires_in": int(ts.expiry / time.Second), "issued_at": now.UTC().Format(time.RFC3339)}
	if r.Method == http.MethodGet {
		resp["token"] = signed
	} else {
		resp["access_token"] = signed
	}
	if offline && user != "" {
		rt := base64.RawURLEncoding.EncodeToString(big.NewInt(serial.Add(1000)).Bytes()) + "-refresh"
		ts.mu.Lock()
		ts.refresh[rt] = user
		ts.mu.Unlock()
		resp["refresh_token"] = rt
	}
	rec.Status = http.StatusOK
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// RefreshTokenFor mints a refresh token for user, as a prior login would have
// left in a credentials store (an identity token).
func (ts *TokenServer) RefreshTokenFor(user string) string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	rt := "identity-" + user + "-" + base64.RawURLEncoding.EncodeToString(big.NewInt(serial.Add(1)).Bytes())
	ts.refresh[rt] = user
	return rt
}

func (ts *TokenServer) checkPassword(u, p string) bool {
	want, ok := ts.users[u]
	return ok && want == p
}
