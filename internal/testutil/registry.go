package testutil

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/bcrypt"

	// The drivers and access controllers register themselves by name.
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/auth/token"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
)

// Registry is a distribution v3 registry running in-process on loopback.
type Registry struct {
	// URL is the base URL, e.g. "http://127.0.0.1:41234".
	URL string
	// Host is host:port as a reference names it, e.g. "127.0.0.1:41234".
	Host string
	// Server is the underlying test server; NewRegistry closes it at cleanup.
	Server *httptest.Server
}

type registryConfig struct {
	htpasswd   map[string]string
	token      *TokenServer
	tlsCert    *Cert
	clientAuth tls.ClientAuthType
	dir        string
	wrap       func(http.Handler) http.Handler
	noDelete   bool
	configYAML string
}

// RegistryOption configures NewRegistry.
type RegistryOption func(*registryConfig)

// WithHtpasswd protects the registry with HTTP Basic auth for these
// user/password pairs (hashed with bcrypt into an htpasswd file).
func WithHtpasswd(users map[string]string) RegistryOption {
	return func(c *registryConfig) { c.htpasswd = users }
}

// WithTokenAuth makes the registry demand Bearer tokens from ts, trusting
// ts's signing certificate through its rootcertbundle.
func WithTokenAuth(ts *TokenServer) RegistryOption {
	return func(c *registryConfig) { c.token = ts }
}

// WithTLS serves the registry over TLS with cert (see CA.Server).
func WithTLS(cert *Cert) RegistryOption {
	return func(c *registryConfig) { c.tlsCert = cert }
}

// WithClientAuth sets the TLS server's client-certificate policy (with
// WithTLS), e.g. tls.RequestClientCert to ask for any certificate without
// naming acceptable CAs, as nginx's ssl_verify_client optional_no_ca does.
func WithClientAuth(a tls.ClientAuthType) RegistryOption {
	return func(c *registryConfig) { c.clientAuth = a }
}

// WithStorageDir keeps the registry's content on disk under dir instead of in
// memory, so a test can inspect it or restart a registry over it.
func WithStorageDir(dir string) RegistryOption {
	return func(c *registryConfig) { c.dir = dir }
}

// WithMiddleware wraps the registry's handler, for a test that needs to see
// or alter requests on their way in (counting, redirecting).
func WithMiddleware(wrap func(http.Handler) http.Handler) RegistryOption {
	return func(c *registryConfig) { c.wrap = wrap }
}

// WithoutDelete disables manifest and blob deletion (distribution's default);
// NewRegistry enables it otherwise.
func WithoutDelete() RegistryOption {
	return func(c *registryConfig) { c.noDelete = true }
}

func init() {
	// The registry logs every request at info level; tests want only trouble.
	logrus.SetLevel(logrus.ErrorLevel)
	logrus.SetOutput(io.Discard)
}

// NewRegistry starts a distribution v3 registry on 127.0.0.1 and stops it
// when the test ends. By default it stores content in memory, allows delete,
// and asks for no auth.
func NewRegistry(t testing.TB, opts ...RegistryOption) *Registry {
	t.Helper()
	r, stop, err := StartRegistry(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return r
}

// StartRegistry is NewRegistry without a testing.TB, for Example functions
// and package registrytest: stop stops the registry and removes the files
// it made.
func StartRegistry(opts ...RegistryOption) (r *Registry, stop func(), err error) {
	var c registryConfig
	for _, o := range opts {
		o(&c)
	}
	tmp, err := os.MkdirTemp("", "hoist-registry-")
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	var y strings.Builder
	y.WriteString("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n")
	y.WriteString("http:\n  secret: hoist-test-secret\n")
	y.WriteString("storage:\n")
	if c.dir != "" {
		fmt.Fprintf(&y, "  filesystem:\n    rootdirectory: %q\n", c.dir)
	} else {
		y.WriteString("  inmemory: {}\n")
	}
	fmt.Fprintf(&y, "  delete:\n    enabled: %t\n", !c.noDelete)
	switch {
	case c.htpasswd != nil:
		path := filepath.Join(tmp, "htpasswd")
		var lines strings.Builder
		for u, p := range c.htpasswd {
			h, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.MinCost)
			if err != nil {
				return nil, nil, err
			}
			fmt.Fprintf(&lines, "%s:%s\n", u, h)
		}
		if err := os.WriteFile(path, []byte(lines.String()), 0o600); err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(&y, "auth:\n  htpasswd:\n    realm: hoist-test\n    path: %q\n", path)
	case c.token != nil:
		fmt.Fprintf(&y, "auth:\n  token:\n    realm: %q\n    service: %q\n    issuer: %q\n    rootcertbundle: %q\n",
			c.token.URL+"/token", c.token.Service, c.token.Issuer, c.token.RootCertBundle)
	}
	cfg, err := configuration.Parse(strings.NewReader(y.String()))
	if err != nil {
		return nil, nil, fmt.Errorf("registry configuration: %v\n%s", err, y.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	var h http.Handler = handlers.NewApp(ctx, cfg)
	if c.wrap != nil {
		h = c.wrap(h)
	}
	srv := httptest.NewUnstartedServer(h)
	if c.tlsCert != nil {
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{c.tlsCert.TLS}, ClientAuth: c.clientAuth}
		srv.StartTLS()
	} else {
		srv.Start()
	}
	u, _ := url.Parse(srv.URL)
	return &Registry{URL: srv.URL, Host: u.Host, Server: srv}, func() {
		srv.Close()
		cancel()
		os.RemoveAll(tmp)
	}, nil
}
