// Command hoist is a container registry client: it pulls, pushes, copies,
// inspects, searches and logs in to OCI Distribution (v2) and legacy Docker
// Registry v1 registries, with per-registry TLS from certs.d.
//
// Run `hoist help` for the verbs and `hoist help VERB` for one of them.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		// A second signal kills at once, as without hoist's handler.
		signal.Stop(sigs)
		cancel(signalError{sig})
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	cancel(nil)
	os.Exit(code)
}
