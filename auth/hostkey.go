package auth

import "strings"

// hubKey is where docker stores Docker Hub credentials, in config.json and
// in helpers alike.
const hubKey = "https://index.docker.io/v1/"

// hubHost is the name NormalizeHost gives Docker Hub.
const hubHost = "docker.io"

// hubEndpoint is the host that serves Docker Hub's v2 API.
const hubEndpoint = "registry-1.docker.io"

// NormalizeHost returns the registry host that a server address or a
// credentials key names: lower-case "host" or "host:port", without scheme,
// path or surrounding space. Every Docker Hub alias
// ("https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io",
// "registry.hub.docker.com", "docker.io") becomes "docker.io".
func NormalizeHost(server string) string {
	s := strings.ToLower(strings.TrimSpace(server))
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	switch s {
	case "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return hubHost
	}
	return s
}

// storageKey is the key hoist writes for host, in config.json and to a
// helper: docker's Hub URL for Docker Hub, the normalised host otherwise.
func storageKey(host string) string {
	h := NormalizeHost(host)
	if h == hubHost {
		return hubKey
	}
	return h
}

// endpointHost is the host that answers the v2 API for host.
func endpointHost(host string) string {
	h := NormalizeHost(host)
	if h == hubHost {
		return hubEndpoint
	}
	return h
}

// sameRegistry reports whether two keys or addresses name one registry.
func sameRegistry(a, b string) bool { return NormalizeHost(a) == NormalizeHost(b) }
