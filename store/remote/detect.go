package remote

import (
	"context"
	"fmt"
	"net/http"

	"github.com/hoist-dev/hoist/distribution"
	"github.com/hoist-dev/hoist/legacy"
	"github.com/hoist-dev/hoist/reference"
)

// Protocol is a registry API.
type Protocol string

// The protocols hoist speaks.
const (
	V2 Protocol = "v2" // OCI Distribution
	V1 Protocol = "v1" // legacy Docker Registry
)

// Detect finds out which protocol registry speaks: GET /v2/ first (200 or
// 401 means v2), then GET /v1/_ping. client carries hoist's transport and
// auth for the registry; v1opts are the options the v1 ping needs (its
// transport). An error says what each endpoint answered.
func Detect(ctx context.Context, registry string, client *http.Client, v1opts ...legacy.Option) (Protocol, error) {
	reg, err := distribution.NewRegistry(reference.APIHost(registry), distribution.WithHTTPClient(client))
	if err != nil {
		return "", err
	}
	p, v2err := reg.Ping(ctx)
	if v2err == nil && p.V2 {
		return V2, nil
	}
	c, err := legacy.NewClient(registry, v1opts...)
	if err != nil {
		return "", err
	}
	if _, v1err := c.Ping(ctx); v1err == nil {
		return V1, nil
	} else if v2err != nil {
		return "", fmt.Errorf("%s speaks neither registry protocol: /v2/: %v; /v1/_ping: %v", registry, v2err, v1err)
	} else {
		return "", fmt.Errorf("%s speaks neither registry protocol: /v2/ answered %d; /v1/_ping: %v", registry, p.Status, v1err)
	}
}
