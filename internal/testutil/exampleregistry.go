package testutil

// StartExampleRegistry starts a distribution v3 registry on 127.0.0.1 with
// in-memory storage, delete enabled and no auth, for runnable Example
// functions, which have no testing.TB to clean up after. It returns the
// registry's host:port and a function that stops it. It panics if the
// registry cannot start.
func StartExampleRegistry() (host string, stop func()) {
	r, stop, err := StartRegistry()
	if err != nil {
		panic(err)
	}
	return r.Host, stop
}
