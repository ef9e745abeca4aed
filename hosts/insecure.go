package hosts

import (
	"net"
	"net/netip"
	"strings"
)

// Config is the host policy of one client: where certs.d directories are
// and which hosts are insecure. The zero value uses DefaultCertsDirs and
// treats no host as insecure. A Config must not be changed once in use.
type Config struct {
	// CertsDirs are searched in order for certs.d/HOST; nil means
	// DefaultCertsDirs(). An empty non-nil slice disables certs.d.
	CertsDirs []string
	// Insecure lists hosts given with --insecure-registry: "host:port"
	// matches that port only, a bare "host" matches every port of it, and a
	// CIDR such as "10.0.0.0/8" matches IP literal hosts inside it. Insecure
	// hosts may be spoken to over plain http, and their TLS certificates are
	// not verified.
	Insecure []string
}

// Dirs returns the certs.d directories this config searches.
func (c *Config) Dirs() []string {
	if c == nil || c.CertsDirs == nil {
		return DefaultCertsDirs()
	}
	return c.CertsDirs
}

// IsInsecure reports whether host ("host" or "host:port") was configured as
// insecure.
func (c *Config) IsInsecure(host string) bool {
	if c == nil {
		return false
	}
	name, port := SplitHost(host)
	addr, addrErr := netip.ParseAddr(name)
	for _, e := range c.Insecure {
		e = strings.TrimSpace(e)
		if p, err := netip.ParsePrefix(e); err == nil {
			if addrErr == nil && p.Contains(addr.Unmap()) {
				return true
			}
			continue
		}
		en, ep := SplitHost(e)
		if en == name && (ep == "" || ep == port) {
			return true
		}
	}
	return false
}

// PlainHTTPAllowed reports whether hoist may speak plain http to host: only
// when it is insecure by configuration or on loopback. Every other host is
// https only, and is never downgraded.
func (c *Config) PlainHTTPAllowed(host string) bool {
	return c.IsInsecure(host) || IsLoopback(host)
}

// IsLoopback reports whether host ("host" or "host:port", IPv6 in brackets)
// names this machine: "localhost", 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	name, _ := SplitHost(host)
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(name)
	return err == nil && a.Unmap().IsLoopback()
}

// SplitHost splits "host", "host:port", "[v6]:port", "[v6]" or a bare
// IPv6 literal into a lower-case name without brackets and a port ("" when
// absent).
func SplitHost(host string) (name, port string) {
	host = strings.ToLower(host)
	if h, p, err := net.SplitHostPort(host); err == nil {
		return h, p
	}
	return strings.Trim(host, "[]"), ""
}
