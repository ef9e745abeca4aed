// Package testutil holds the real test components hoist's tests share: TLS
// material generated per test, an in-process distribution v3 registry with
// htpasswd or token auth, and a Docker token server that the registry trusts.
//
// Everything here is for tests only. Helpers take a testing.TB, register their
// own cleanup with t.Cleanup, and fail the test (t.Fatal) on setup errors, so
// callers never check an error from them.
package testutil
