// Package servecli is the `hoist serve` verb: the command line of hoist's
// own registry (package server/serve and below). It lives apart from the
// client's commands (package cli) and is linked only into the hoist-serve
// program, because the server's storage drivers bring OpenTelemetry, gRPC,
// Prometheus and the AWS SDK, whose package initialisation alone more than
// doubles every client command's resident memory (hoist --help: 10 MiB
// without them, 25 MiB with them). `hoist serve` in the client runs
// hoist-serve (see cli.DelegateServe).
package servecli

import (
	"github.com/spf13/cobra"

	"github.com/hoist-dev/hoist/internal/cli"
)

// cmd is the serve verb bound to one invocation.
type cmd struct{ *cli.App }

// Verb is the serve command, for cli.Main.
func Verb(a *cli.App) *cobra.Command {
	quietDriverLogs()
	return (&cmd{a}).serveCommand()
}
