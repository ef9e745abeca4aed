package serve_test

import (
	"context"
	"fmt"
	"net"
	"net/http"

	"github.com/distribution/distribution/v3/registry/storage/driver/inmemory"

	"github.com/hoist-dev/hoist/server/serve"
)

// A registry in memory on a loopback port, stopped by cancelling the
// context Serve runs under.
func Example() {
	srv, err := serve.New(serve.WithDriver(inmemory.New()))
	if err != nil {
		panic(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/v2/")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status, resp.Header.Get("Docker-Distribution-API-Version"))

	stop()
	fmt.Println("shut down:", <-done)
	// Output:
	// 200 OK registry/2.0
	// shut down: <nil>
}
