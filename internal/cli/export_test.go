package cli

import (
	"context"
	"io"
)

// run is Run as the hoist program calls it (the serve verb delegating to
// hoist-serve), for the tests.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Run(ctx, args, stdin, stdout, stderr, DelegateServe)
}
