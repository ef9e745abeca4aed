package server

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// V1Account is an account of a V1 server, given with WithV1Account.
// Username and Password are what clients send with HTTP Basic auth. An
// account that is not Active can log in to nothing: GET users/ answers 403.
type V1Account struct {
	Username string
	Password string
	Email    string
	Active   bool
}

// V1Option configures a V1 server; pass options to NewV1.
type V1Option func(*v1Config)

// v1Config holds every setting of a V1 server; defaultV1Config gives the
// defaults.
type v1Config struct {
	accounts         []V1Account
	protectUsers     bool
	standalone       bool
	version          string
	endpoints        []string
	readAuth         bool
	announceRedirect int
	logger           *slog.Logger
	tokenTTL         time.Duration
	now              func() time.Time
	bcryptCost       int
	blobs            V1Blobs
	tags             V1Tags
}

// defaultV1Config returns the defaults: a standalone registry announcing
// itself as version 0.9.1 (the last docker-registry release), with open
// registration, public reads, tokens valid for an hour, and no logging.
func defaultV1Config() v1Config {
	return v1Config{
		standalone: true,
		version:    "0.9.1",
		logger:     slog.New(slog.DiscardHandler),
		tokenTTL:   time.Hour,
		now:        time.Now,
		bcryptCost: bcrypt.DefaultCost,
	}
}

// WithV1Account adds an account. Accounts given this way live in memory
// only; accounts registered through POST users/ are stored under the root.
// Once any account exists, pushing (PUT repositories/NAME/ and every write
// after it) needs credentials.
func WithV1Account(a V1Account) V1Option {
	return func(c *v1Config) { c.accounts = append(c.accounts, a) }
}

// WithV1ProtectedUsers makes POST users/ answer 401, as a private registry
// that does not allow registration does. Login then goes straight to
// GET users/ with Basic auth.
func WithV1ProtectedUsers(protected bool) V1Option {
	return func(c *v1Config) { c.protectUsers = protected }
}

// WithV1Standalone sets what _ping announces in X-Docker-Registry-Standalone
// and its body. A standalone registry also accepts HTTP Basic credentials on
// registry calls; one that is not standalone accepts only index tokens
// there. The default is true.
func WithV1Standalone(standalone bool) V1Option {
	return func(c *v1Config) { c.standalone = standalone }
}

// WithV1Version sets the version in X-Docker-Registry-Version and the _ping
// body. The default is "0.9.1".
func WithV1Version(version string) V1Option {
	return func(c *v1Config) { c.version = version }
}

// WithV1Endpoints sets the registry hosts (host or host:port, no scheme)
// that the index announces in X-Docker-Endpoints. By default it announces the
// Host of the request, that is, itself.
func WithV1Endpoints(hosts ...string) V1Option {
	return func(c *v1Config) { c.endpoints = append([]string(nil), hosts...) }
}

// WithV1ReadAuth makes reads need credentials too: Basic auth on index calls
// (repository image lists, search) and a token, a session cookie or, on a
// standalone registry, Basic auth on registry calls. By default reads are
// public.
func WithV1ReadAuth(required bool) V1Option {
	return func(c *v1Config) { c.readAuth = required }
}

// WithV1AnnounceRedirect makes PUT repositories/NAME/ answer status (a 3xx)
// with a Location on another path of this server, where the same PUT is then
// accepted. It exercises the client's rule of re-sending the announcement to
// Location. Zero, the default, turns the redirect off.
func WithV1AnnounceRedirect(status int) V1Option {
	return func(c *v1Config) { c.announceRedirect = status }
}

// WithV1Logger sets where the server logs requests it rejects and internal
// errors. The default discards everything.
func WithV1Logger(l *slog.Logger) V1Option {
	return func(c *v1Config) { c.logger = l }
}

// WithV1TokenTTL sets how long a token issued by the index, and the session
// cookie set from it, stays valid. The default is one hour.
func WithV1TokenTTL(d time.Duration) V1Option {
	return func(c *v1Config) { c.tokenTTL = d }
}

// WithV1Clock replaces time.Now for token expiry, so tests can move time.
func WithV1Clock(now func() time.Time) V1Option {
	return func(c *v1Config) { c.now = now }
}

// WithV1BcryptCost sets the bcrypt cost of the password hashes stored for
// accounts registered through POST users/. The default is bcrypt's default
// cost; tests that register accounts may lower it to bcrypt.MinCost to run
// fast.
func WithV1BcryptCost(cost int) V1Option {
	return func(c *v1Config) { c.bcryptCost = cost }
}

// validate reports the first setting that cannot work.
func (c *v1Config) validate() error {
	seen := map[string]bool{}
	for _, a := range c.accounts {
		switch {
		case a.Username == "" || strings.Contains(a.Username, ":"):
			return fmt.Errorf("v1 server: account username %q must be non-empty and hold no colon", a.Username)
		case a.Password == "":
			return fmt.Errorf("v1 server: account %q needs a password", a.Username)
		case seen[a.Username]:
			return fmt.Errorf("v1 server: account %q is given twice", a.Username)
		}
		seen[a.Username] = true
	}
	for _, h := range c.endpoints {
		if h == "" || strings.ContainsAny(h, ", /") {
			return fmt.Errorf("v1 server: endpoint %q must be a bare host or host:port", h)
		}
	}
	if c.announceRedirect != 0 && (c.announceRedirect < 300 || c.announceRedirect > 399) {
		return fmt.Errorf("v1 server: announce redirect status %d is not a 3xx", c.announceRedirect)
	}
	if c.tokenTTL <= 0 {
		return fmt.Errorf("v1 server: token lifetime %v must be positive", c.tokenTTL)
	}
	if c.bcryptCost < bcrypt.MinCost || c.bcryptCost > bcrypt.MaxCost {
		return fmt.Errorf("v1 server: bcrypt cost %d is outside %d..%d", c.bcryptCost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	if c.logger == nil || c.now == nil {
		return fmt.Errorf("v1 server: logger and clock must not be nil")
	}
	return nil
}
