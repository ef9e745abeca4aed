package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Messages of the users/ endpoints that clients match on.
const (
	msgUserExists  = "Username or email already exists"
	msgUserCreated = "User Created"
)

// v1UsernameRE is the original index's rule for new usernames.
var v1UsernameRE = regexp.MustCompile(`^[a-z0-9_]{4,30}$`)

// v1User is an account: given by an option (static, password kept in
// memory) or registered (bcrypt hash, stored under the root).
type v1User struct {
	username string
	email    string
	active   bool
	static   bool
	password string // static accounts
	hash     []byte // registered accounts
}

// v1Users holds every account. Methods are safe for concurrent use.
type v1Users struct {
	st   *v1Store
	cost int // bcrypt cost for new accounts

	mu     sync.Mutex
	byName map[string]*v1User
	// verified remembers, per registered account, the SHA-256 of a password
	// bcrypt accepted, so Basic auth on every request stays cheap.
	verified map[string][sha256.Size]byte
}

func newV1Users(ctx context.Context, st *v1Store, static []V1Account, cost int) (*v1Users, error) {
	u := &v1Users{st: st, cost: cost, byName: map[string]*v1User{}, verified: map[string][sha256.Size]byte{}}
	stored, err := st.listUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("v1 server: loading accounts: %w", err)
	}
	for _, s := range stored {
		u.byName[s.Username] = &v1User{username: s.Username, email: s.Email, active: s.Active, hash: []byte(s.PasswordHash)}
	}
	// Accounts given as options win over stored ones of the same name.
	for _, a := range static {
		u.byName[a.Username] = &v1User{username: a.Username, email: a.Email, active: a.Active, static: true, password: a.Password}
	}
	return u, nil
}

// any reports whether at least one account exists.
func (u *v1Users) any() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.byName) > 0
}

// check verifies credentials. It returns 0 for an active account with the
// right password, 401 for an unknown account or a wrong password, and 403
// for an inactive account, with a message for the client.
func (u *v1Users) check(username, password string) (int, string) {
	u.mu.Lock()
	acct, ok := u.byName[username]
	var a v1User
	if ok {
		a = *acct
	}
	pwSum := sha256.Sum256([]byte(password))
	cached := ok && u.verified[username] == pwSum
	u.mu.Unlock()

	const wrong = "Wrong login or password"
	switch {
	case !ok:
		return http.StatusUnauthorized, wrong
	case a.static:
		want := sha256.Sum256([]byte(a.password))
		if subtle.ConstantTimeCompare(want[:], pwSum[:]) != 1 {
			return http.StatusUnauthorized, wrong
		}
	case !cached:
		if bcrypt.CompareHashAndPassword(a.hash, []byte(password)) != nil {
			return http.StatusUnauthorized, wrong
		}
		u.mu.Lock()
		u.verified[username] = pwSum
		u.mu.Unlock()
	}
	if !a.active {
		return http.StatusForbidden, "Account is not active; activate it first"
	}
	return 0, ""
}

// register creates an inactive account. It returns the status and the
// message to answer with: 201 when created, 400 when the account exists or
// a field is invalid, 500 (with the error) when it cannot be stored.
func (u *v1Users) register(ctx context.Context, username, password, email string) (int, string, error) {
	switch {
	case !v1UsernameRE.MatchString(username):
		return http.StatusBadRequest, "Invalid username: use 4 to 30 characters among a-z, 0-9 and _", nil
	case len(password) < 5:
		return http.StatusBadRequest, "Invalid password: use at least 5 characters", nil
	case !strings.Contains(email, "@") || strings.ContainsAny(email, " \t\r\n"):
		return http.StatusBadRequest, "Invalid email address", nil
	}
	// Check before the costly hash, and again after it, under the lock.
	u.mu.Lock()
	taken := u.taken(username, email)
	u.mu.Unlock()
	if taken {
		return http.StatusBadRequest, msgUserExists, nil
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), u.cost)
	if err != nil {
		return http.StatusBadRequest, "Invalid password: " + err.Error(), nil
	}

	u.mu.Lock()
	defer u.mu.Unlock()
	if u.taken(username, email) {
		return http.StatusBadRequest, msgUserExists, nil
	}
	if err := u.st.writeUser(ctx, storedUser{Username: username, Email: email, PasswordHash: string(hash)}); err != nil {
		return http.StatusInternalServerError, "internal server error", err
	}
	u.byName[username] = &v1User{username: username, email: email, hash: hash}
	return http.StatusCreated, msgUserCreated, nil
}

// taken reports whether an account has this name or email. u.mu must be
// held.
func (u *v1Users) taken(username, email string) bool {
	if _, ok := u.byName[username]; ok {
		return true
	}
	for _, a := range u.byName {
		if strings.EqualFold(a.email, email) {
			return true
		}
	}
	return false
}

// activate marks an account active, storing the change for a registered one.
func (u *v1Users) activate(ctx context.Context, username string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	a, ok := u.byName[username]
	if !ok {
		return fmt.Errorf("v1 server: no account %q to activate", username)
	}
	if !a.static {
		err := u.st.writeUser(ctx, storedUser{Username: a.username, Email: a.email, PasswordHash: string(a.hash), Active: true})
		if err != nil {
			return fmt.Errorf("v1 server: activating %q: %w", username, err)
		}
	}
	a.active = true
	return nil
}

// serveUsers answers users/: POST registers, GET logs in.
func (s *V1) serveUsers(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		s.register(w, r)
	case http.MethodGet, http.MethodHead:
		s.login(w, r)
	default:
		methodNotAllowed(w, http.MethodGet, http.MethodHead, http.MethodPost)
	}
}

// register answers POST users/ with a JSON string, as the index did.
func (s *V1) register(w http.ResponseWriter, r *http.Request) {
	if s.cfg.protectUsers {
		w.Header().Set("WWW-Authenticate", basicChallenge)
		writeJSON(w, http.StatusUnauthorized, "Registration is closed on this registry; log in with an existing account")
		return
	}
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Email    string `json:"email"`
	}
	b, err := readBody(r, maxSmallJSON)
	if err == nil {
		err = json.Unmarshal(b, &req)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, "Invalid registration request: "+err.Error())
		return
	}
	status, msg, err := s.users.register(r.Context(), req.Username, req.Password, req.Email)
	if err != nil {
		s.cfg.logger.Error("v1 server: registering an account failed", "username", req.Username, "err", err)
	}
	writeJSON(w, status, msg)
}

// login answers GET users/: 200 for good credentials of an active account.
func (s *V1) login(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		w.Header().Set("WWW-Authenticate", basicChallenge)
		writeJSON(w, http.StatusUnauthorized, "Log in with HTTP Basic auth")
		return
	}
	if status, msg := s.users.check(user, pass); status != 0 {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", basicChallenge)
		}
		writeJSON(w, status, msg)
		return
	}
	writeJSON(w, http.StatusOK, "OK")
}
