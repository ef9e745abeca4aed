// Package depcheck holds the test that keeps hoist's layering true: every
// package of the module sits in one layer of DESIGN.md's order, and
// imports only packages of the layers below its own. A package that
// imports upwards, or a new package no layer names, fails `go test ./...`
// (as go-containerregistry's internal/depcheck does for its own rules),
// so the layering cannot drift from what DESIGN.md says.
package depcheck
