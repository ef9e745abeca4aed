// Package probe finds out what a registry host speaks and how hoist reaches
// it: the protocols (OCI Distribution v2 at /v2/, Docker Registry v1 at
// /v1/_ping), the scheme, the TLS session, which client certificate from
// certs.d was accepted and which were refused, and the auth challenge.
//
// It is what `hoist ping` prints, and what protocol detection uses: /v2/
// first, then /v1/_ping.
package probe
