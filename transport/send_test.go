package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Send frames the body as its size says and passes the headers on.
func TestSendBody(t *testing.T) {
	type seen struct {
		length  int64
		chunked bool
		body    string
		header  string
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.ContentLength, len(r.TransferEncoding) > 0 && r.TransferEncoding[0] == "chunked", string(b), r.Header.Get("X-Test")}
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/upload")
	tests := []struct {
		name string
		body io.Reader
		size int64
		want seen
	}{
		{"no body", nil, 0, seen{length: 0, header: "h"}},
		{"known size", strings.NewReader("hello"), 5, seen{length: 5, body: "hello", header: "h"}},
		{"unknown size goes chunked", io.MultiReader(strings.NewReader("hello")), -1, seen{length: -1, chunked: true, body: "hello", header: "h"}},
		{"size 0 sends nothing", strings.NewReader("ignored"), 0, seen{length: 0, header: "h"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := Send(context.Background(), &http.Client{}, http.MethodPut, u, http.Header{"X-Test": {"h"}}, tt.body, tt.size)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusTeapot {
				t.Errorf("status %d: Send must hand back any answer", resp.StatusCode)
			}
			if s := <-got; s != tt.want {
				t.Errorf("server saw %+v, want %+v", s, tt.want)
			}
		})
	}
}

// A network error names the method and the URL without its secrets.
func TestSendErrorRedactsURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close() // nothing listens any more
	u, _ := url.Parse(fmt.Sprintf("http://alice:pw-secret@%s/v2/a/blobs/uploads/1?_state=state-secret&digest=sha256:00", addr))
	_, err := Send(context.Background(), &http.Client{}, http.MethodPut, u, nil, nil, 0)
	if err == nil {
		t.Fatal("no error from a closed port")
	}
	msg := err.Error()
	if strings.Contains(msg, "pw-secret") || strings.Contains(msg, "state-secret") {
		t.Errorf("error shows a secret: %s", msg)
	}
	if !strings.HasPrefix(msg, "PUT http://alice:REDACTED@"+addr+"/v2/a/blobs/uploads/1?") {
		t.Errorf("error %q does not name the method and URL", msg)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		t.Errorf("error still wraps a *url.Error, which prints the URL unredacted")
	}
}

// A request the Transport sent over plain http (the loopback fallback)
// names the http:// URL when it fails, not the https:// one asked for.
func TestSendNamesTheSchemeUsed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/drop" {
			panic(http.ErrAbortHandler)
		}
	}))
	defer srv.Close()
	hc := NewClient(New(noRetry()))
	host := strings.TrimPrefix(srv.URL, "http://")
	if resp, err := Send(context.Background(), hc, http.MethodGet, &url.URL{Scheme: "https", Host: host, Path: "/v2/"}, nil, nil, 0); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	_, err := Send(context.Background(), hc, http.MethodGet, &url.URL{Scheme: "https", Host: host, Path: "/drop"}, nil, nil, 0)
	if err == nil || !strings.Contains(err.Error(), "GET http://"+host+"/drop: ") {
		t.Fatalf("error %v; want it to name http://%s/drop", err, host)
	}
}
