package legacy_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"

	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/hosts"
	"github.com/hoist-dev/hoist/legacy"
	"github.com/hoist-dev/hoist/server"
	"github.com/hoist-dev/hoist/transport"
)

// exampleRegistry starts hoist's v1 server on loopback with one account
// and returns its host:port and a stop function.
func exampleRegistry() (string, func()) {
	root, err := os.MkdirTemp("", "v1-example")
	if err != nil {
		log.Fatal(err)
	}
	srv, err := server.NewV1(root, server.WithV1Account(server.V1Account{
		Username: "foo42", Password: "s3cret!", Email: "foo42@example.com", Active: true,
	}))
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	return ts.Listener.Addr().String(), func() { ts.Close(); os.RemoveAll(root) }
}

// exampleChain is a one-image chain: a v1 JSON and a layer (an empty tar).
type exampleChain struct{}

const exampleID = "77dbf71da1d00e3fbddc480176eac8994025630c6590d11cfc8fe1209c2a1d20"

func (exampleChain) IDs() []string { return []string{exampleID} }
func (exampleChain) JSON(context.Context, string) ([]byte, error) {
	return []byte(`{"id":"` + exampleID + `","created":"2014-06-13T11:13:18Z"}`), nil
}
func (exampleChain) Layer(context.Context, string) (io.ReadCloser, error) {
	return io.NopCloser(io.LimitReader(zeros{}, 1024)), nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// Pull an image chain from a v1 registry and stream its layers.
func ExampleClient_Pull() {
	host, stop := exampleRegistry()
	defer stop()
	ctx := context.Background()
	// hoist's transport: certs.d, retries, https first and http only
	// because the host is on loopback.
	rt := transport.New(transport.WithHosts(&hosts.Config{CertsDirs: []string{}}))
	c, err := legacy.NewClient(host, legacy.WithTransport(rt),
		legacy.WithKeychain(auth.Static(auth.Credential{Username: "foo42", Password: "s3cret!"})))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Push(ctx, "foo42/bar", "latest", exampleChain{}); err != nil {
		log.Fatal(err)
	}

	chain, err := c.Pull(ctx, "foo42/bar", "latest")
	if err != nil {
		log.Fatal(err)
	}
	for _, id := range chain.IDs() {
		layer, err := chain.Layer(ctx, id)
		if err != nil {
			log.Fatal(err)
		}
		n, err := io.Copy(io.Discard, layer) // verified against its checksum at EOF
		layer.Close()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s… %d bytes\n", id[:12], n)
	}
	// Output:
	// 77dbf71da1d0… 1024 bytes
}

// Search an index for repositories.
func ExampleClient_Search() {
	host, stop := exampleRegistry()
	defer stop()
	ctx := context.Background()
	c, err := legacy.NewClient(host, legacy.WithTransport(transport.New(transport.WithHosts(&hosts.Config{CertsDirs: []string{}}))),
		legacy.WithKeychain(auth.Static(auth.Credential{Username: "foo42", Password: "s3cret!"})))
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range []string{"foo42/busybox", "foo42/busyapp", "foo42/other"} {
		if _, err := c.Announce(ctx, name, nil); err != nil { // creates the repository
			log.Fatal(err)
		}
	}

	found, err := c.Search(ctx, "busy", 10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(found.NumResults, "results")
	for _, r := range found.Results {
		fmt.Println(r.Name, r.StarCount, r.IsOfficial)
	}
	// Output:
	// 2 results
	// foo42/busyapp 0 false
	// foo42/busybox 0 false
}
