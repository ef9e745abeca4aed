package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// basicChallenge is sent with 401 answers that want Basic credentials.
const basicChallenge = `Basic realm="hoist v1 registry"`

// sessionCookie names the cookie a registry sets after accepting a token.
const sessionCookie = "session"

// v1Access is what a token allows.
type v1Access int

const (
	accessRead v1Access = iota
	accessWrite
)

func (a v1Access) String() string {
	if a == accessWrite {
		return "write"
	}
	return "read"
}

// v1Grant is what a token or a session cookie allows, and until when.
type v1Grant struct {
	repo    v1Name
	access  v1Access
	user    string // "" for anonymous
	expires time.Time
}

// v1Tokens holds the tokens the index issued and the sessions registry
// calls opened with them, in memory. Methods are safe for concurrent use.
type v1Tokens struct {
	mu       sync.Mutex
	tokens   map[string]v1Grant // by signature
	sessions map[string]v1Grant // by cookie value
}

func newV1Tokens() *v1Tokens {
	return &v1Tokens{tokens: map[string]v1Grant{}, sessions: map[string]v1Grant{}}
}

// randomID returns 32 random hex digits.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// add stores g under a new random key in m, dropping expired entries.
func (t *v1Tokens) add(m map[string]v1Grant, g v1Grant, now time.Time) string {
	id := randomID()
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, old := range m {
		if !now.Before(old.expires) {
			delete(m, k)
		}
	}
	m[id] = g
	return id
}

func (t *v1Tokens) lookup(m map[string]v1Grant, id string, now time.Time) (v1Grant, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	g, ok := m[id]
	if !ok || !now.Before(g.expires) {
		return v1Grant{}, false
	}
	return g, true
}

// presentedToken is one token of an "Authorization: Token ..." header.
type presentedToken struct {
	signature, repository, access string
}

// parseTokens parses the value after "Token ": one or more tokens of the
// form signature=S,repository="ns/repo",access=A, joined with commas.
func parseTokens(v string) []presentedToken {
	var toks []presentedToken
	for _, part := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		val = strings.Trim(val, `"`)
		switch {
		case k == "signature":
			toks = append(toks, presentedToken{signature: val})
		case len(toks) == 0:
			// A field before any signature belongs to no token.
		case k == "repository":
			toks[len(toks)-1].repository = val
		case k == "access":
			toks[len(toks)-1].access = val
		}
	}
	return toks
}

// issueToken creates a token for n and sends it in X-Docker-Token (and in
// WWW-Authenticate, as the original index did).
func (s *V1) issueToken(w http.ResponseWriter, n v1Name, a v1Access, user string) {
	now := s.cfg.now()
	sig := s.tokens.add(s.tokens.tokens, v1Grant{repo: n, access: a, user: user, expires: now.Add(s.cfg.tokenTTL)}, now)
	tok := fmt.Sprintf(`signature=%s,repository="%s",access=%s`, sig, n, a)
	w.Header().Set("X-Docker-Token", tok)
	w.Header().Set("WWW-Authenticate", "Token "+tok)
}

// authIndex checks the credentials of an index call and reports whether the
// call may go on; if not, it has answered. Basic credentials, when sent,
// must be right whatever the call. Without them, writes are refused once
// accounts exist, and reads when WithV1ReadAuth is set. It returns the
// account name, "" for anonymous calls.
func (s *V1) authIndex(w http.ResponseWriter, r *http.Request, write bool) (string, bool) {
	user, pass, hasBasic := r.BasicAuth()
	if hasBasic {
		if status, msg := s.users.check(user, pass); status != 0 {
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", basicChallenge)
			}
			writeError(w, status, msg)
			return "", false
		}
		return user, true
	}
	if (write && s.users.any()) || (!write && s.cfg.readAuth) {
		w.Header().Set("WWW-Authenticate", basicChallenge)
		writeError(w, http.StatusUnauthorized, "Requires authorization: send HTTP Basic credentials (log in first)")
		return "", false
	}
	return "", true
}

// v1Target is what a registry call touches: a repository (tags) or an image.
type v1Target struct {
	repo  *v1Name
	image string
}

func (t v1Target) String() string {
	if t.repo != nil {
		return "repository " + t.repo.String()
	}
	return "image " + t.image
}

// authRegistry checks the credentials of a registry call and reports
// whether it may go on; if not, it has answered.
//
//   - Tokens (Authorization: Token T1,T2) must have been issued by this index
//     and not have expired (else 401), and one of them must grant the access
//     to the target (else 403): a repository target must be the token's
//     repository; an image must be in the token's repository image list or,
//     for reads, an ancestor of an image there. The first accepted token
//     opens a session, sent as a cookie, which then works like the token.
//   - Basic credentials are accepted by a standalone registry only.
//   - Without credentials, writes are refused once accounts exist, and reads
//     when WithV1ReadAuth is set.
func (s *V1) authRegistry(w http.ResponseWriter, r *http.Request, target v1Target, write bool) bool {
	scheme, rest, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	now := s.cfg.now()
	switch strings.ToLower(scheme) {
	case "token":
		var valid []v1Grant
		for _, t := range parseTokens(rest) {
			g, ok := s.tokens.lookup(s.tokens.tokens, t.signature, now)
			if ok && (t.repository == "" || t.repository == g.repo.String()) && (t.access == "" || t.access == g.access.String()) {
				valid = append(valid, g)
			}
		}
		if len(valid) == 0 {
			s.registryChallenge(w)
			writeError(w, http.StatusUnauthorized, "Invalid or expired token: get a new one from the index")
			return false
		}
		for _, g := range valid {
			if s.grantAllows(r.Context(), g, target, write) {
				s.openSession(w, r, g, now)
				return true
			}
		}
		writeError(w, http.StatusForbidden, fmt.Sprintf("Access denied: no token grants %s access to %s", accessOf(write), target))
		return false
	case "basic":
		if !s.cfg.standalone {
			s.registryChallenge(w)
			writeError(w, http.StatusUnauthorized, "This registry is not standalone: registry calls need a token from the index")
			return false
		}
		user, pass, _ := r.BasicAuth()
		if status, msg := s.users.check(user, pass); status != 0 {
			s.registryChallenge(w)
			writeError(w, status, msg)
			return false
		}
		return true
	case "":
		if c, err := r.Cookie(sessionCookie); err == nil {
			if g, ok := s.tokens.lookup(s.tokens.sessions, c.Value, now); ok && s.grantAllows(r.Context(), g, target, write) {
				return true
			}
		}
		if (write && s.users.any()) || (!write && s.cfg.readAuth) {
			s.registryChallenge(w)
			writeError(w, http.StatusUnauthorized, "Requires authorization: send the token the index issued")
			return false
		}
		return true
	default:
		s.registryChallenge(w)
		writeError(w, http.StatusUnauthorized, fmt.Sprintf("Unsupported authorization scheme %q: use Token or Basic", scheme))
		return false
	}
}

func accessOf(write bool) v1Access {
	if write {
		return accessWrite
	}
	return accessRead
}

// registryChallenge tells the client which credentials a registry call takes.
func (s *V1) registryChallenge(w http.ResponseWriter) {
	if s.cfg.standalone {
		w.Header().Set("WWW-Authenticate", basicChallenge)
		return
	}
	w.Header().Set("WWW-Authenticate", "Token")
}

// openSession sets a session cookie for g unless the request already
// carries a live one.
func (s *V1) openSession(w http.ResponseWriter, r *http.Request, g v1Grant, now time.Time) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if _, ok := s.tokens.lookup(s.tokens.sessions, c.Value, now); ok {
			return
		}
	}
	id := s.tokens.add(s.tokens.sessions, g, now)
	// No Expires: the server enforces the lifetime, with its own clock.
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/v1/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
	})
}

// grantAllows reports whether g covers a read or write of target.
func (s *V1) grantAllows(ctx context.Context, g v1Grant, target v1Target, write bool) bool {
	if write && g.access != accessWrite {
		return false
	}
	if target.repo != nil {
		return *target.repo == g.repo
	}
	list, err := s.store.repoImages(ctx, g.repo)
	if err != nil {
		s.cfg.logger.Error("v1 server: reading a repository image list", "repository", g.repo.String(), "err", err)
		return false
	}
	if slices.ContainsFunc(list, func(ri repoImage) bool { return ri.ID == target.image }) {
		return true
	}
	if write {
		return false
	}
	for _, ri := range list {
		if anc, err := s.store.ancestry(ctx, ri.ID); err == nil && slices.Contains(anc, target.image) {
			return true
		}
	}
	return false
}
