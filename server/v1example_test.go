package server_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/hoist-dev/hoist/server"
)

// A v1 registry with one account, served on loopback, as a test peer.
func ExampleNewV1() {
	root, err := os.MkdirTemp("", "v1-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)

	srv, err := server.NewV1(root,
		server.WithV1Account(server.V1Account{Username: "foo42", Password: "s3cret!", Email: "foo42@example.com", Active: true}),
		server.WithV1Standalone(false),
	)
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	resp, err := http.Get(ts.URL + "/v1/_ping")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Header.Get("X-Docker-Registry-Standalone"))
	fmt.Println(string(body))

	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/v1/users/", nil)
	req.SetBasicAuth("foo42", "s3cret!")
	login, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	login.Body.Close()
	fmt.Println(login.Status)
	// Output:
	// false
	// {"version":"0.9.1","standalone":false}
	// 200 OK
}
