package serve

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path"

	"github.com/hoist-dev/hoist/server/registry"
)

// serverTLS builds the TLS configuration: the server certificate, and the
// client-certificate policy of cfg.
func serverTLS(cfg *config) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("serve: TLS certificate %s with key %s: %w", cfg.tlsCert, cfg.tlsKey, err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	var pool *x509.CertPool
	if cfg.clientCA != "" {
		pem, err := os.ReadFile(cfg.clientCA)
		if err != nil {
			return nil, fmt.Errorf("serve: client CA file: %w", err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("serve: client CA file %s holds no PEM certificate", cfg.clientCA)
		}
	}
	switch cfg.mode() {
	case ClientCertRequire:
		tc.ClientAuth, tc.ClientCAs = tls.RequireAndVerifyClientCert, pool
	case ClientCertOptional:
		if pool != nil {
			tc.ClientAuth, tc.ClientCAs = tls.VerifyClientCertIfGiven, pool
		} else {
			// Ask for any certificate and name no CA: the client offers
			// whatever it has, and the CN decides per request.
			tc.ClientAuth = tls.RequestClientCert
		}
	}
	if cfg.mode() == ClientCertRequire && cfg.clientCN != "" {
		pattern := cfg.clientCN
		tc.VerifyPeerCertificate = func(_ [][]byte, chains [][]*x509.Certificate) error {
			for _, ch := range chains {
				if ok, _ := path.Match(pattern, ch[0].Subject.CommonName); ok {
					return nil
				}
			}
			return fmt.Errorf("client certificate common name is not %q", pattern)
		}
	}
	return tc, nil
}

// requireClientCert answers 403 to a request whose connection brought no
// client certificate, or one whose common name does not match pattern
// (any name when pattern is ""). This is the original Docker client's
// test set-up (apache's SSLVerifyClient optional_no_ca and a CN check): a
// client that offers the wrong certificate gets a 403 it can react to by
// trying its next one.
func requireClientCert(next http.Handler, pattern string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			registry.WriteError(w, http.StatusForbidden, registry.CodeDenied, "a client certificate is required")
			return
		}
		cn := r.TLS.PeerCertificates[0].Subject.CommonName
		if pattern != "" {
			if ok, _ := path.Match(pattern, cn); !ok {
				registry.WriteError(w, http.StatusForbidden, registry.CodeDenied, fmt.Sprintf("client certificate %q is not admitted", cn))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
