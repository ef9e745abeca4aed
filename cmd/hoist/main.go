// Command hoist is a container registry client: it pulls, pushes, copies,
// inspects, searches and logs in to OCI Distribution (v2) and legacy Docker
// Registry v1 registries, with per-registry TLS from certs.d.
//
// Run `hoist help` for the verbs and `hoist help VERB` for one of them.
// `hoist serve` runs the hoist-serve program (cmd/hoist-serve), hoist's
// own registry, installed beside it.
package main

import "github.com/hoist-dev/hoist/internal/cli"

func main() { cli.Main(cli.DelegateServe) }
