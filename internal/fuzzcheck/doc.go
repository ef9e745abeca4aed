// Package fuzzcheck holds the resource bounds that hoist's fuzz targets
// assert besides their own properties: how much a call allocates on the
// heap, and how many bytes it reads from files. A parser that is fed
// hostile input must stay within a bound proportional to that input, not
// merely avoid a panic.
//
// It is a leaf package (standard library only), so that the tests of any
// package, content and reference included, can import it without a cycle.
// It is for tests only.
package fuzzcheck
