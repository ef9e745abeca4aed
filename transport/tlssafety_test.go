package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/hosts"
	"github.com/hoist-dev/hoist/internal/testutil"
)

// TestTLSBelow12Refused: a registry that speaks at most TLS 1.1 is
// refused during the handshake, whatever its certificate.
func TestTLSBelow12Refused(t *testing.T) {
	ca := testutil.NewCA(t, "registry CA")
	srv := newTLSServer(t, ca, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }, func(c *tls.Config) {
		c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	})
	tr := New(WithHosts(&hosts.Config{CertsDirs: []string{certsDir(t, srv.host, ca, nil)}}), noRetry())
	_, _, err := get(t, tr, srv.URL)
	if err == nil || !strings.Contains(err.Error(), "protocol version") {
		t.Fatalf("TLS 1.1 registry: err = %v, want a protocol version failure", err)
	}
	if srv.handshakes.Load() != 0 {
		t.Errorf("%d handshakes completed", srv.handshakes.Load())
	}
}

// TestCertsDirCAForItsHostOnly: certs.d/HOST's CA is trusted for HOST,
// not for another host served by a certificate of the same CA, which is
// verified against the system roots (and so fails); and verification is
// on by default for a host without any certs.d entry.
func TestCertsDirCAForItsHostOnly(t *testing.T) {
	ca := testutil.NewCA(t, "private CA")
	a := newTLSServer(t, ca, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "a") }, nil)
	b := newTLSServer(t, ca, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "b") }, nil)
	tr := New(WithHosts(&hosts.Config{CertsDirs: []string{certsDir(t, a.host, ca, nil)}}), noRetry())
	if _, body, err := get(t, tr, a.URL); err != nil || body != "a" {
		t.Fatalf("host with the CA in certs.d: %q, %v", body, err)
	}
	_, _, err := get(t, tr, b.URL)
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) {
		t.Fatalf("another host of the same CA: err = %v, want an unknown-authority error", err)
	}
}
