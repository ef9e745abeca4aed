// Package hosts holds the per-host settings hoist applies to every registry
// it talks to: the TLS material from a docker-style certs.d directory, and
// the rules for which hosts may be spoken to over plain http.
//
// The certs.d layout is docker's: for a registry host H (written exactly as
// in the image reference, "host" or "host:port"), the first of the configured
// directories that has a subdirectory H supplies
//
//   - every *.crt file as a CA root: with at least one, the server is verified
//     against those roots only; with none, against the system roots;
//   - every NAME.cert with NAME.key as a client certificate, offered in
//     alphabetical order of NAME.
//
// Unlike docker, a malformed file is an error that names it rather than being
// skipped, so a typo never silently changes which certificate is presented.
package hosts
