// Package auth finds, stores and uses registry credentials the way docker
// does, and authenticates HTTP requests to registries.
//
// # Credentials
//
// A [ConfigStore] reads docker's config.json (the directory given with
// [WithConfigDir], else $DOCKER_CONFIG, else ~/.docker), the legacy
// ~/.dockercfg, and containers' auth.json files. For a host H, the first
// source that knows H wins:
//
//  1. config.json credHelpers[H]: the helper docker-credential-NAME;
//  2. config.json credsStore: the helper for every host;
//  3. config.json auths[H];
//  4. ~/.dockercfg (JSON map form, or the two-line form for Docker Hub);
//  5. $REGISTRY_AUTH_FILE, then $XDG_RUNTIME_DIR/containers/auth.json.
//
// Steps 1 and 2 are docker's own order. A configured helper that fails (as
// opposed to not knowing H) is an error, never a silent fall-through, and so
// is a malformed file or entry: the error names the file or helper.
//
// Keys are compared by host: "https://index.docker.io/v1/", "docker.io",
// "index.docker.io" and "registry-1.docker.io" are one registry (Docker Hub,
// stored under "https://index.docker.io/v1/" as docker does), and a key
// written as a URL ("https://host:5000/v1/") matches its host ("host:5000").
//
// Writes ([ConfigStore.Put], [ConfigStore.Erase]) go to the configured helper
// or to config.json only; ~/.dockercfg and auth.json are never modified.
// config.json is rewritten atomically (temp file, fsync, rename, fsync of the
// directory) with mode 0600 under an flock on config.json.lock, and every
// byte of every field hoist does not own is kept as it was.
//
// # Authenticated requests
//
// [NewTransport] wraps any http.RoundTripper for one registry host. It
// answers Basic and Bearer challenges (RFC 7235, parsed by
// [ParseChallenges]), fetches and caches tokens per realm, service and scope
// set, derives scopes from the request, and attaches credentials only to that
// host and its token realm, never over plain http unless the host is allowed
// by [WithPlainHTTPAllowed].
//
// # Login
//
// [Login] verifies credentials with a [Verifier] (the v2 one is
// [NewV2Verifier]; a v1 verifier lives elsewhere) and only then stores them.
package auth
