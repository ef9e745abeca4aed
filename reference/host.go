package reference

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// DefaultRegistry is the registry of a reference that names none: Docker
// Hub, under the name docker uses for it.
const DefaultRegistry = "docker.io"

// dockerHubAPIHost is the host that serves Docker Hub's v2 API.
const dockerHubAPIHost = "registry-1.docker.io"

// dockerHubAliases are the names that mean Docker Hub; each normalises to
// DefaultRegistry.
var dockerHubAliases = []string{DefaultRegistry, "index.docker.io", dockerHubAPIHost}

// IsDockerHub reports whether registry names Docker Hub: "docker.io",
// "index.docker.io" or "registry-1.docker.io", in any letter case (host
// names are case-insensitive). A port, even 443, makes it another registry.
func IsDockerHub(registry string) bool {
	for _, a := range dockerHubAliases {
		if strings.EqualFold(registry, a) {
			return true
		}
	}
	return false
}

// APIHost returns the host[:port] to dial for registry: Docker Hub's names
// give "registry-1.docker.io", every other registry is returned unchanged.
func APIHost(registry string) string {
	if IsDockerHub(registry) {
		return dockerHubAPIHost
	}
	return registry
}

// looksLikeHost reports whether the first component of a name is a
// registry host rather than part of the repository path. It is docker's
// rule, plus '[' for IPv6 literals, less one case: docker also takes a
// first component with an upper-case letter ("User/app") for a host, where
// hoist reads a repository and says it must be lowercase, since a typo is
// far likelier than a dotless upper-case host name.
func looksLikeHost(first string) bool {
	return strings.ContainsAny(first, ".:") || first == "localhost" || strings.HasPrefix(first, "[")
}

// checkHost validates a registry host as written: a DNS name or IPv4
// address, or an IPv6 address in brackets, each with an optional port.
// part prefixes the error's Part ("" for Parse, "v1 " for ParseV1).
func checkHost(input, part, host string) error {
	bad := func(reason string) error { return invalid(input, part+"registry host", host, reason) }
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return bad(`missing "]" after the IPv6 address; write "[ADDRESS]" or "[ADDRESS]:PORT"`)
		}
		if reason := ipv6Problem(host[1:end]); reason != "" {
			return bad(reason)
		}
		rest := host[end+1:]
		if rest == "" {
			return nil
		}
		if rest[0] != ':' {
			return bad(fmt.Sprintf(`unexpected %q after "]"; write "[ADDRESS]:PORT"`, rest))
		}
		return checkPort(input, part, rest[1:])
	}
	if strings.Count(host, ":") > 1 {
		return bad(`an IPv6 address goes in brackets, e.g. "[::1]:5000"`)
	}
	name, port, hasPort := strings.Cut(host, ":")
	if reason := hostnameProblem(name); reason != "" {
		return bad(reason)
	}
	if hasPort {
		return checkPort(input, part, port)
	}
	return nil
}

// hostnameProblem explains what is wrong with a DNS name or IPv4 address,
// or returns "" when it is fine. Labels are letters, digits and inner
// dashes, as docker allows (it does not insist on 63-character labels).
func hostnameProblem(name string) string {
	if name == "" {
		return `the host name is empty; write HOST or HOST:PORT before the first "/"`
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" {
			return `empty label in the host name; remove the extra "."`
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !isAlnum(c) && c != '-' {
				return fmt.Sprintf("%s is not allowed in a host name; use letters, digits, '-' and '.'", charAt(label, i))
			}
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Sprintf("host name label %q starts or ends with '-'", label)
		}
	}
	return ""
}

// ipv6Problem explains what is wrong with the text between the brackets of
// an IPv6 literal, or returns "" when it is a plain IPv6 address. Zones
// ("%eth0") and embedded IPv4 forms are refused, as docker refuses them.
func ipv6Problem(addr string) string {
	for i := 0; i < len(addr); i++ {
		if !isHex(addr[i]) && addr[i] != ':' {
			return fmt.Sprintf("%q is not an IPv6 address; write hex digits and ':' between the brackets, e.g. \"[::1]\"", addr)
		}
	}
	if ip, err := netip.ParseAddr(addr); err != nil || !ip.Is6() {
		return fmt.Sprintf("%q is not an IPv6 address", addr)
	}
	return ""
}

// checkPort validates the digits after a host's ':'.
func checkPort(input, part, port string) error {
	const reason = "ports are numbers from 1 to 65535"
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return invalid(input, part+"port", port, reason)
		}
	}
	n, err := strconv.Atoi(port)
	if port == "" || err != nil || n < 1 || n > 65535 {
		return invalid(input, part+"port", port, reason)
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
