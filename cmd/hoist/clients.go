package main

import (
	"net/http"

	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/transport"
)

// credentials returns the credential store the global --config names.
func (a *app) credentials() *auth.ConfigStore {
	if a.creds == nil {
		var opts []auth.Option
		if a.configDir != "" {
			opts = append(opts, auth.WithConfigDir(a.configDir))
		}
		a.creds = auth.NewConfigStore(opts...)
	}
	return a.creds
}

// authOptions are the auth options every registry client shares: the same
// plain-http rule as the transport.
func (a *app) authOptions() []auth.Option {
	return []auth.Option{auth.WithPlainHTTPAllowed(a.hosts.PlainHTTPAllowed)}
}

// registryClient returns the http.Client that authenticates to host with
// the stored credentials, over the shared transport. There is one per host
// per invocation, so what auth learns (the challenge, tokens) is shared by
// protocol detection and every store.
func (a *app) registryClient(host string) *http.Client {
	a.clientsMu.Lock()
	defer a.clientsMu.Unlock()
	if c, ok := a.clients[host]; ok {
		return c
	}
	if a.clients == nil {
		a.clients = map[string]*http.Client{}
	}
	c := transport.NewClient(auth.NewTransport(a.tr, host, a.credentials(), a.authOptions()...))
	a.clients[host] = c
	return c
}
