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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
