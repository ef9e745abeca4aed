package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"

	"github.com/hoist-dev/hoist/distribution"

	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/legacy"
	"github.com/hoist-dev/hoist/transport"
)

// Report is what a probe of one host found.
type Report struct {
	// Host is the registry host as given, "host" or "host:port".
	Host string `json:"host"`
	// Scheme is "https" or "http", as the last answer came.
	Scheme string `json:"scheme"`
	// Protocols lists what the host speaks, "v2" and/or "v1", v2 first.
	Protocols []string `json:"protocols"`
	// V2Status and V1Status are the HTTP statuses of /v2/ and /v1/_ping
	// (0 when the request failed).
	V2Status int `json:"v2Status"`
	V1Status int `json:"v1Status,omitempty"`
	// V1Version is X-Docker-Registry-Version, when v1 answered.
	V1Version string `json:"v1Version,omitempty"`
	// V1Standalone reports a standalone v1 registry (no separate index).
	V1Standalone bool `json:"v1Standalone,omitempty"`
	// Challenge is the WWW-Authenticate header /v2/ answered with, if any.
	Challenge string `json:"challenge,omitempty"`
	// TLS describes the TLS session, nil over plain http.
	TLS *TLSInfo `json:"tls,omitempty"`
	// ClientCert is the file name of the client certificate the server
	// accepted, "" when none was needed or none worked.
	ClientCert string `json:"clientCert,omitempty"`
	// Refused lists the client certificates the server refused, and why.
	Refused []Refusal `json:"refusedClientCerts,omitempty"`
}

// TLSInfo is the negotiated TLS session and the server's certificate.
type TLSInfo struct {
	Version string `json:"version"`
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	ALPN    string `json:"alpn,omitempty"`
}

// Refusal is one client certificate that did not work.
type Refusal struct {
	Cert   string `json:"cert"`
	Reason string `json:"reason"`
}

// Host probes host with client c, whose transport must be (or wrap) a
// transport.Transport so that certificate attempts are traced. It fails only
// when the host cannot be reached at all; a host that speaks neither
// protocol gives a Report with no Protocols and an error saying so.
func Host(ctx context.Context, c *http.Client, host string) (*Report, error) {
	rep := &Report{Host: host}
	tr := &transport.Trace{}
	tctx := transport.WithTrace(ctx, tr)

	reg, err := distribution.NewRegistry(host, distribution.WithHTTPClient(c))
	if err != nil {
		return rep, err
	}
	// The /v2/ ping detection uses too; any answer is one (its error is
	// the status it reports), only a failure to get one counts as such.
	p, v2err := reg.Ping(tctx)
	if p != nil {
		v2err = nil
		rep.V2Status = p.Status
		if len(p.Challenges) > 0 {
			rep.Challenge = p.Challenges[0]
		}
		if p.V2 || p.APIVersion != "" {
			rep.Protocols = append(rep.Protocols, "v2")
		}
	}
	rep.fromTrace(tr)

	v1err := rep.pingV1(tctx, c, host)
	if rep.Scheme == "" {
		rep.fromTrace(tr)
	}
	if v2err != nil && v1err != nil {
		return rep, fmt.Errorf("%s is unreachable: %w", host, v2err)
	}
	if len(rep.Protocols) == 0 {
		return rep, fmt.Errorf("%s answered /v2/ with %d and /v1/_ping with %d: it does not look like a container registry", host, rep.V2Status, rep.V1Status)
	}
	return rep, nil
}

func (r *Report) fromTrace(tr *transport.Trace) {
	r.Scheme = tr.Scheme()
	if cs := tr.TLS(); cs != nil {
		r.TLS = &TLSInfo{Version: tls.VersionName(cs.Version), ALPN: cs.NegotiatedProtocol}
		if len(cs.PeerCertificates) > 0 {
			r.TLS.Subject = cs.PeerCertificates[0].Subject.String()
			r.TLS.Issuer = cs.PeerCertificates[0].Issuer.String()
		}
	}
	r.ClientCert, r.Refused = "", nil
	seen := map[string]bool{}
	for _, a := range tr.Attempts() {
		if a.Cert == "" {
			continue
		}
		if a.Refused || a.Err != nil || a.Status == http.StatusForbidden || a.Status >= 500 {
			if !seen[a.Cert] {
				r.Refused = append(r.Refused, Refusal{Cert: a.Cert, Reason: reason(a)})
				seen[a.Cert] = true
			}
			continue
		}
		r.ClientCert = a.Cert
	}
}

func reason(a transport.CertAttempt) string {
	if a.Err != nil {
		return a.Err.Error()
	}
	return fmt.Sprintf("HTTP %d %s", a.Status, http.StatusText(a.Status))
}

// pingV1 asks /v1/_ping through the legacy client, which reads version and
// standalone-ness the way the original client did.
func (r *Report) pingV1(ctx context.Context, c *http.Client, host string) error {
	v1, err := legacy.NewClient(host, legacy.WithTransport(c.Transport))
	if err != nil {
		return err
	}
	res, err := v1.Ping(ctx)
	var ee *errcode.Error
	switch {
	case err == nil:
		r.V1Status = http.StatusOK
		r.Protocols = append(r.Protocols, "v1")
		r.V1Version, r.V1Standalone = res.Version, res.Standalone
		return nil
	case errors.As(err, &ee):
		r.V1Status = ee.Status // an answer, just not a v1 one
		return nil
	}
	return err
}
