package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// registration is the body of POST users/.
func registration(t *testing.T, user, pass, email string) *strings.Reader {
	t.Helper()
	b, err := json.Marshal(map[string]string{"username": user, "password": pass, "email": email})
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReader(string(b))
}

var jsonUTF8 = withHeader("Content-Type", "application/json; charset=utf-8")

// The login branches of docs/v1-protocol.md, step 1 (POST users/) then step 2
// (GET users/ with Basic auth).
func TestV1Login(t *testing.T) {
	inactive := V1Account{Username: "sleepy", Password: "zzzzzz", Email: "sleepy@example.com"}
	tests := []struct {
		name              string
		opts              []V1Option
		user, pass, email string
		postStatus        int
		postBody          string // the JSON string answered, "" to skip the check
		getStatus         int
	}{
		{name: "new account must be activated", user: "newbie", pass: "hunter22", email: "newbie@example.com",
			postStatus: http.StatusCreated, postBody: "User Created", getStatus: http.StatusForbidden},
		{name: "existing account, right password", opts: []V1Option{WithV1Account(foo42)},
			user: foo42.Username, pass: foo42.Password, email: foo42.Email,
			postStatus: http.StatusBadRequest, postBody: "Username or email already exists", getStatus: http.StatusOK},
		{name: "existing account, wrong password", opts: []V1Option{WithV1Account(foo42)},
			user: foo42.Username, pass: "wrong-password", email: foo42.Email,
			postStatus: http.StatusBadRequest, postBody: "Username or email already exists", getStatus: http.StatusUnauthorized},
		{name: "existing email under another name", opts: []V1Option{WithV1Account(foo42)},
			user: "other", pass: "whatever", email: "FOO42@example.com",
			postStatus: http.StatusBadRequest, postBody: "Username or email already exists", getStatus: http.StatusUnauthorized},
		{name: "inactive account", opts: []V1Option{WithV1Account(inactive)},
			user: inactive.Username, pass: inactive.Password, email: inactive.Email,
			postStatus: http.StatusBadRequest, postBody: "Username or email already exists", getStatus: http.StatusForbidden},
		{name: "protected users/", opts: []V1Option{WithV1Account(foo42), WithV1ProtectedUsers(true)},
			user: foo42.Username, pass: foo42.Password, email: foo42.Email,
			postStatus: http.StatusUnauthorized, getStatus: http.StatusOK},
		{name: "protected users/, wrong password", opts: []V1Option{WithV1Account(foo42), WithV1ProtectedUsers(true)},
			user: foo42.Username, pass: "nope!", email: foo42.Email,
			postStatus: http.StatusUnauthorized, getStatus: http.StatusUnauthorized},
		{name: "invalid username", user: "Bad Name", pass: "hunter22", email: "bad@example.com",
			postStatus: http.StatusBadRequest, getStatus: http.StatusUnauthorized},
		{name: "short password", user: "shorty", pass: "1234", email: "s@example.com",
			postStatus: http.StatusBadRequest, getStatus: http.StatusUnauthorized},
		{name: "invalid email", user: "noemail", pass: "hunter22", email: "nowhere",
			postStatus: http.StatusBadRequest, getStatus: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newV1Env(t, tt.opts...)
			a := e.call(http.MethodPost, "users/", registration(t, tt.user, tt.pass, tt.email), jsonUTF8)
			expect(t, "POST users/", a, tt.postStatus)
			msg := a.jsonString(t)
			if tt.postBody != "" && msg != tt.postBody {
				t.Errorf("POST users/ body = %q, want %q", msg, tt.postBody)
			}
			if tt.postStatus == http.StatusBadRequest && tt.postBody == "" && msg == "Username or email already exists" {
				t.Errorf("a validation error answered like an existing account")
			}
			expect(t, "GET users/", e.call(http.MethodGet, "users/", nil, withBasic(tt.user, tt.pass)), tt.getStatus)
		})
	}
}

// A registered account logs in once activated, and survives a restart.
func TestV1RegisterActivate(t *testing.T) {
	e := newV1Env(t)
	expect(t, "GET users/ without credentials", e.call(http.MethodGet, "users/", nil), http.StatusUnauthorized)
	expect(t, "register", e.call(http.MethodPost, "users/", registration(t, "newbie", "hunter22", "n@example.com"), jsonUTF8), http.StatusCreated)
	expect(t, "register again", e.call(http.MethodPost, "users/", registration(t, "newbie", "other-pass", "x@example.com"), jsonUTF8), http.StatusBadRequest)
	expect(t, "log in before activation", e.call(http.MethodGet, "users/", nil, withBasic("newbie", "hunter22")), http.StatusForbidden)
	if err := e.srv.Activate("newbie"); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Activate("nobody"); err == nil {
		t.Error("Activate of an unknown account did not fail")
	}
	a := e.call(http.MethodGet, "users/", nil, withBasic("newbie", "hunter22"))
	expect(t, "log in after activation", a, http.StatusOK)
	expect(t, "log in again (cached check)", e.call(http.MethodGet, "users/", nil, withBasic("newbie", "hunter22")), http.StatusOK)
	expect(t, "wrong password after a good one", e.call(http.MethodGet, "users/", nil, withBasic("newbie", "hunter23")), http.StatusUnauthorized)

	// Once an account exists, pushing needs credentials.
	expect(t, "anonymous announce", e.call(http.MethodPut, "repositories/newbie/app/", strings.NewReader("[]")), http.StatusUnauthorized)

	srv, err := NewV1(e.root)
	if err != nil {
		t.Fatal(err)
	}
	e2 := &v1Env{t: t, root: e.root, srv: srv, ts: httptest.NewServer(srv)}
	defer e2.ts.Close()
	expect(t, "log in after a restart", e2.call(http.MethodGet, "users/", nil, withBasic("newbie", "hunter22")), http.StatusOK)
	expect(t, "register after a restart", e2.call(http.MethodPost, "users/", registration(t, "newbie", "hunter22", "n@example.com"), jsonUTF8), http.StatusBadRequest)
}

func TestV1UsersMethods(t *testing.T) {
	e := newV1Env(t)
	a := e.call(http.MethodDelete, "users/", nil)
	expect(t, "DELETE users/", a, http.StatusMethodNotAllowed)
	if a.header.Get("Allow") == "" {
		t.Error("405 without an Allow header")
	}
	expect(t, "POST users/ with a bad body", e.call(http.MethodPost, "users/", strings.NewReader("{"), jsonUTF8), http.StatusBadRequest)
}
