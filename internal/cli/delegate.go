package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"
)

// ServeProgram is the program that implements `hoist serve`. The registry
// server is a program of its own because its storage drivers' package
// initialisation (OpenTelemetry, gRPC, Prometheus, the AWS SDK) would more
// than double the resident memory of every client command if hoist linked
// it (see package servecli).
const ServeProgram = "hoist-serve"

// DelegateServe is the serve verb of the client program: it runs
// ServeProgram with the invocation's arguments, found next to the running
// hoist (symlinks resolved) or else on PATH. Run from a terminal (the
// process's own streams), hoist becomes that program (exec), so its PID,
// signals and exit code are the server's; otherwise (tests, embedding) it
// runs it as a child with the invocation's streams.
func DelegateServe(a *App) *cobra.Command {
	return &cobra.Command{
		Use:   "serve [--addr HOST:PORT] [--root DIR | --storage s3 ...] [--mirror HOST]",
		Short: "Run hoist's own registry (OCI Distribution v2, and v1 with --v1)",
		Long: `Serve runs hoist's own registry. It is the program ` + ServeProgram + `, installed
beside hoist (go build -o DIR/ ./cmd/hoist ./cmd/` + ServeProgram + `, or go install
github.com/hoist-dev/hoist/cmd/...); hoist serve runs it with the same
arguments, and hoist help serve shows its flags.`,
		Example: `  hoist serve --addr 127.0.0.1:5000 --root /var/lib/hoist
  hoist serve gc --root /var/lib/hoist`,
		DisableFlagParsing: true,
		// The server builds its own session.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runServeProgram(a.args)
		},
	}
}

// serveHelp prints the server program's help for serve when it is
// installed, and the delegate's own otherwise.
func (a *App) serveHelp(cmd *cobra.Command) error {
	if _, err := findServeProgram(); err != nil {
		return cmd.Help()
	}
	return a.runServeProgram([]string{"serve", "--help"})
}

// runServeProgram runs ServeProgram with args.
func (a *App) runServeProgram(args []string) error {
	path, err := findServeProgram()
	if err != nil {
		return err
	}
	if a.stdin == os.Stdin && a.stdout == os.Stdout && a.stderr == os.Stderr {
		err := syscall.Exec(path, append([]string{path}, args...), os.Environ())
		return fmt.Errorf("running %s: %w", path, err)
	}
	c := exec.Command(path, args...)
	c.Stdin, c.Stdout, c.Stderr = a.stdin, a.stdout, a.stderr
	err = c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return exitCodeError{code: ee.ExitCode()}
	}
	return err
}

// findServeProgram returns the path of ServeProgram: beside the running
// executable first, then on PATH.
func findServeProgram() (string, error) {
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			p := filepath.Join(filepath.Dir(exe), ServeProgram)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	if p, err := exec.LookPath(ServeProgram); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("hoist serve runs the %s program, which is neither beside hoist nor on PATH: build both with go build -o DIR/ ./cmd/hoist ./cmd/%s (or go install github.com/hoist-dev/hoist/cmd/...)", ServeProgram, ServeProgram)
}
