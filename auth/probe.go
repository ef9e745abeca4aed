package auth

import (
	"context"
	"net/http"
)

type noCredentialsKey struct{}

// ContextWithoutCredentials returns a context whose requests an auth
// transport (NewTransport) sends as they are: no credential, no token
// request, no retry after a 401. The answer still teaches the transport
// the host's challenge, so that a later request authenticates up front
// without another GET /v2/.
//
// It is for protocol detection: a 401 from /v2/ means "v2, credentials
// needed", and asking a token realm that refuses anonymous requests, or
// presenting stored credentials that a login is about to replace, would
// turn that answer into an error.
func ContextWithoutCredentials(ctx context.Context) context.Context {
	return context.WithValue(ctx, noCredentialsKey{}, true)
}

func withoutCredentials(ctx context.Context) bool {
	v, _ := ctx.Value(noCredentialsKey{}).(bool)
	return v
}

// passThrough sends req without credentials and learns from the answer.
func (t *transport) passThrough(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		if c, ok := pickChallenge(challengesOf(resp.Header)); ok {
			t.learn(c)
		}
	} else if answeredBare(req, resp) {
		t.noAuth()
	}
	return resp, nil
}
