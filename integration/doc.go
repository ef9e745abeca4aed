// Package integration holds hoist's tests against real external programs:
// Debian's nginx and docker-registry, skopeo, umoci, crane and credential
// helpers. They build the hoist binary and run it as a user would.
//
// The tests carry the build tag "integration"; .ci/run installs the
// programs and runs them with `go test -tags integration ./integration/`.
// Outside CI a missing program skips its test; under CI it fails.
package integration
