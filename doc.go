// Package hoist is the one-call face of the hoist library: copy, pull,
// push, list tags, resolve a digest, read a manifest, inspect, delete and
// log in, between registries (OCI Distribution v2 and legacy Docker
// Registry v1), OCI layouts and docker archives, named by location strings:
//
//	REF, docker://REF           an image in a registry
//	oci:DIR[:TAG]               an OCI image layout directory
//	docker-archive:FILE[:REF]   a docker save tarball
//	./dir, app.tar              a local layout or archive (see store.ParseLocation)
//
// The package-level functions (Copy, Tags, ...) each build a Session from
// their options, do one job and close it. A program doing several jobs
// builds one Session with NewSession and calls its methods, which share
// connections, tokens and what each registry speaks.
//
// By default credentials come from docker's config ($DOCKER_CONFIG or
// ~/.docker/config.json, its credential helpers, .dockercfg), each
// registry host getting its own, and TLS settings from the certs.d
// directories docker and podman use. A Session holds everything the
// lower packages need wired together: the transport (package transport),
// one authenticated client per host (package auth), the protocol each
// registry speaks (store/remote.Detect); its OpenReader and OpenWriter
// open any location as a store (package store) for the copy engine
// (package copy) or for direct use.
//
// Package registrytest runs an in-process registry for tests and examples.
package hoist
