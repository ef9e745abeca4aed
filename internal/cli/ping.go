package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hoist-dev/hoist/probe"
)

func (a *App) pingCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "ping REGISTRY",
		Short: "Check that a registry answers, and how hoist reaches it",
		Long: `Ping checks REGISTRY (host or host:port) at /v2/ and then /v1/_ping, and
reports:
  - the protocols it speaks (v2, v1) and the scheme used (https, or http for
    loopback and --insecure-registry hosts that do not speak TLS);
  - the TLS version and the server certificate's subject and issuer;
  - which client certificate from certs.d/REGISTRY/ was accepted, by file
    name, and which were refused and why;
  - the authentication challenge, if the registry asks for one.

Exit status is 0 when the registry speaks v2 or v1, and 1 otherwise.`,
		Example: `  hoist ping registry.example.com
  hoist ping --certs-dir ./certs.d localhost:5443
  hoist ping --json 127.0.0.1:5000`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := a.session.Ping(cmd.Context(), args[0])
			if rep != nil && rep.Scheme == "" {
				rep = nil // nothing answered: the error says it all
			}
			if a.jsonOut && rep != nil {
				if jerr := a.printJSON(rep); jerr != nil {
					return jerr
				}
			} else if rep != nil && !a.quiet {
				a.printPing(rep)
			}
			return err
		},
	}
}

func (a *App) printPing(r *probe.Report) {
	w := a.stdout
	protos := strings.Join(r.Protocols, ", ")
	if protos == "" {
		protos = "none"
	}
	fmt.Fprintf(w, "registry:    %s\n", r.Host)
	fmt.Fprintf(w, "protocols:   %s (over %s)\n", protos, r.Scheme)
	if r.V1Version != "" {
		fmt.Fprintf(w, "v1 version:  %s (standalone: %t)\n", r.V1Version, r.V1Standalone)
	}
	if r.TLS != nil {
		fmt.Fprintf(w, "tls:         %s", r.TLS.Version)
		if r.TLS.ALPN != "" {
			fmt.Fprintf(w, ", %s", r.TLS.ALPN)
		}
		fmt.Fprintf(w, "\nserver cert: %s (issuer: %s)\n", r.TLS.Subject, r.TLS.Issuer)
	}
	if r.ClientCert != "" {
		fmt.Fprintf(w, "client cert: %s accepted\n", r.ClientCert)
	}
	for _, f := range r.Refused {
		fmt.Fprintf(w, "client cert: %s refused: %s\n", f.Cert, f.Reason)
	}
	if r.Challenge != "" {
		fmt.Fprintf(w, "auth:        %s\n", r.Challenge)
	}
}
