// Command bench times hoist against crane, regctl, skopeo and oras, and
// against a "floor" of plain parallel curl transfers, on the same local
// registries in the same run.
//
// It starts Debian's docker-registry (distribution 2.8) on free loopback
// ports, builds deterministic test images with crane, then for each case
// (pull to an OCI layout, push of a layout, registry-to-registry copy
// within one registry and to a second one, copy of every tag of a
// repository) runs every tool N times, taking the median wall time, the
// peak resident set size of the child process (from its rusage) and its
// CPU time. Full-transfer cases get an empty target registry for every run
// and skopeo's blob-info cache is cleared before them, so no tool mounts
// what it should transfer.
//
// With -profile (lan, far, throttled, slow) every case also runs with the
// far registry behind toxiproxy, which adds latency and a per-connection
// bandwidth cap, and every registry behind a counting proxy that counts
// each tool's requests by endpoint kind. Floors computed from the measured
// link and the blob sizes are printed beside the results, with the
// measured curl floors (one connection per blob, and n ranged connections).
//
// The results, with the exact command line, the machine and every tool's
// version, go to bench/RESULTS.md as Markdown and to standard output. The
// -sweep mode times hoist alone at several --concurrency values, which is
// how hoist's default concurrency is chosen.
//
// Everything it creates lives under bench/work (gitignored). It stops the
// registries it started by their PIDs.
//
// Usage:
//
//	go run ./bench -quick -profile lan   # ~10 MB image, 5 tags, 1 run: the CI smoke test
//	go run ./bench -runs 5       # the full benchmark
//	go run ./bench -profile lan,far,throttled,slow
//	go run ./bench -runs 5 -sweep -cases none
//
// See bench/README.md for how to read the tables.
package main
