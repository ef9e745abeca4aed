package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/distribution"
	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/legacy"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/transport"
)

// Protocol is a registry API.
type Protocol string

// The protocols hoist speaks.
const (
	V2 Protocol = "v2" // OCI Distribution
	V1 Protocol = "v1" // legacy Docker Registry
)

// ErrUnreachable is wrapped by Detect's error when neither endpoint could
// be reached at all (refused connections, no route, a name that does not
// resolve, a timeout): nothing was learnt about the protocol.
var ErrUnreachable = errors.New("unreachable")

// Detect finds out which protocol registry speaks: GET /v2/ first, then
// GET /v1/_ping.
//
// client carries hoist's transport and auth for the registry. The probe
// goes out without credentials (auth.ContextWithoutCredentials): /v2/
// answering 200 or 401 means v2 whatever the credentials, while a probe
// that authenticated would fetch a token first, which fails for a token
// server that refuses anonymous requests, or with stale stored
// credentials before a login replaces them. The auth transport still
// learns the challenge from the answer. v1opts are the options the v1
// ping needs (its transport).
//
// When neither endpoint answers, the error wraps ErrUnreachable and the
// first network error. When the host answers only plain http but may not
// be spoken to that way, the transport's error (wrapping
// transport.ErrPlainHTTP) is returned as it is. Otherwise the error says
// what each endpoint answered.
func Detect(ctx context.Context, registry string, client *http.Client, v1opts ...legacy.Option) (Protocol, error) {
	reg, err := distribution.NewRegistry(reference.APIHost(registry), distribution.WithHTTPClient(client))
	if err != nil {
		return "", err
	}
	p, v2err := reg.Ping(auth.ContextWithoutCredentials(ctx))
	if v2err == nil && p.V2 {
		return V2, nil
	}
	if errors.Is(v2err, transport.ErrPlainHTTP) {
		return "", v2err
	}
	if err := timedOut(ctx, registry, v2err); err != nil {
		// /v1/_ping would only wait as long again.
		return "", err
	}
	c, err := legacy.NewClient(registry, v1opts...)
	if err != nil {
		return "", err
	}
	_, v1err := c.Ping(ctx)
	switch {
	case v1err == nil:
		return V1, nil
	case ctx.Err() != nil:
		return "", ctx.Err()
	case v2err != nil && !answered(v2err) && !answered(v1err):
		return "", fmt.Errorf("%s is %w: %w", registry, ErrUnreachable, v2err)
	case v2err != nil:
		return "", fmt.Errorf("%s speaks neither registry protocol: /v2/: %v; /v1/_ping: %v", registry, v2err, v1err)
	}
	return "", fmt.Errorf("%s speaks neither registry protocol: /v2/ answered %d; /v1/_ping: %v", registry, p.Status, v1err)
}

// timedOut returns the ErrUnreachable error for registry when err is a
// timeout (the host took the connection, then timed out as often as the
// transport allows) and ctx is still live: asking the host anything more
// would only wait as long again. Otherwise it returns nil.
func timedOut(ctx context.Context, registry string, err error) error {
	if err == nil || !transport.IsTimeout(err) || ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("%s is %w: %w", registry, ErrUnreachable, err)
}

// answered reports whether err is an HTTP answer (any status), as opposed
// to a failure to get one.
func answered(err error) bool {
	var ee *errcode.Error
	return errors.As(err, &ee)
}
