package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	lib "github.com/hoist-dev/hoist"
)

// Verb builds a command that a program adds to hoist's built-in verbs
// (hoist serve, in the hoist-serve program). It is called once per Run,
// with the invocation the command will run in.
type Verb func(*App) *cobra.Command

// Main runs hoist with the process's arguments and streams and exits with
// its exit code. The first SIGINT or SIGTERM ends the invocation's context
// (verbs clean up and say how to resume); a second one kills at once.
func Main(verbs ...Verb) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		signal.Stop(sigs)
		cancel(signalError{sig})
	}()
	code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, verbs...)
	cancel(nil)
	os.Exit(code)
}

// Session returns the session the global flags built; it exists once the
// verb runs (after the root command's PersistentPreRunE).
func (a *App) Session() *lib.Session { return a.session }

// Stdout is where results go.
func (a *App) Stdout() io.Writer { return a.stdout }

// Stderr is where progress and diagnostics go.
func (a *App) Stderr() io.Writer { return a.stderr }

// JSON reports whether --json asks for one JSON document on stdout.
func (a *App) JSON() bool { return a.jsonOut }

// PrintJSON writes v as the invocation's one JSON document.
func (a *App) PrintJSON(v any) error { return a.printJSON(v) }

// Usagef returns an error that exits 2, as a wrong invocation does.
func Usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// ExactArgs is cobra.ExactArgs with a usage error naming the synopsis.
func ExactArgs(n int) cobra.PositionalArgs { return exactArgs(n) }
