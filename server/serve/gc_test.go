package serve

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/opencontainers/go-digest"
)

// WithGC collects while the server serves: a blob no manifest refers to
// goes once it is older than the grace period.
func TestScheduledGC(t *testing.T) {
	srv, err := New(WithDriver(inmemory.New()), WithGC(10*time.Millisecond, time.Nanosecond))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	base := "http://" + ln.Addr().String()
	blob := []byte("nobody refers to me")
	d := digest.FromBytes(blob)
	resp, err := http.Post(base+"/v2/app/blobs/uploads/?digest="+d.String(), "application/octet-stream", bytes.NewReader(blob))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("push: %v %v", err, resp)
	}
	resp.Body.Close()
	for i := 0; ; i++ {
		resp, err := http.Head(base + "/v2/app/blobs/" + d.String())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return
		}
		if i == 500 {
			t.Fatalf("the unreferenced blob is still there after %d checks: status %d", i, resp.StatusCode)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
