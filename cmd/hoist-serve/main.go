// Command hoist-serve is hoist with its own registry: every verb of hoist,
// and `hoist serve` (run `hoist-serve serve --help`). hoist runs it for
// `hoist serve`, so install it beside hoist:
//
//	go build -o DIR/ ./cmd/hoist ./cmd/hoist-serve
//
// It is a program of its own because the server's storage drivers would
// more than double the resident memory of every client command (see
// internal/cli/servecli).
package main

import (
	"github.com/hoist-dev/hoist/internal/cli"
	"github.com/hoist-dev/hoist/internal/cli/servecli"
)

func main() { cli.Main(servecli.Verb) }
