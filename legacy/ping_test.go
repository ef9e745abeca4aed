package legacy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/server"
)

func TestPingV1Server(t *testing.T) {
	for _, standalone := range []bool{true, false} {
		_, ts := v1Server(t, nil, server.WithV1Standalone(standalone), server.WithV1Version("0.9.9"))
		c := newTestClient(t, hostOf(ts))
		got, err := c.Ping(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := PingResult{Version: "0.9.9", Standalone: standalone, Secure: false}
		if got != want {
			t.Errorf("standalone=%v: Ping = %+v, want %+v", standalone, got, want)
		}
	}
}

// Registries of every age answered _ping differently; these are answers
// the v1 server never gives, so a handler stands in for old ones.
func TestPingAnswers(t *testing.T) {
	tests := []struct {
		name    string
		header  http.Header
		body    string
		want    PingResult
		wantErr error
	}{
		{"header true wins over body", http.Header{"X-Docker-Registry-Standalone": {"True"}}, `{"standalone": false}`, PingResult{Standalone: true}, nil},
		{"header 1", http.Header{"X-Docker-Registry-Standalone": {"1"}}, ``, PingResult{Standalone: true}, nil},
		{"header other value", http.Header{"X-Docker-Registry-Standalone": {"no"}}, `{"standalone": true}`, PingResult{Standalone: false}, nil},
		{"body only", nil, `{"version": "0.7.0", "standalone": false}`, PingResult{Version: "0.7.0", Standalone: false}, nil},
		{"no body: standalone", http.Header{"X-Docker-Registry-Version": {"0.6.2"}}, ``, PingResult{Version: "0.6.2", Standalone: true}, nil},
		{"invalid body: standalone", nil, `true`, PingResult{Standalone: true}, nil},
		{"body without standalone", nil, `{"version": "1"}`, PingResult{Version: "1", Standalone: true}, nil},
		{"version header wins", http.Header{"X-Docker-Registry-Version": {"0.6.2"}}, `{"version": "9"}`, PingResult{Version: "0.6.2", Standalone: true}, nil},
		{"v2-only registry", http.Header{"X-Status": {"404"}}, `404 page not found`, PingResult{}, errcode.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/v1/_ping" {
					t.Errorf("request to %s", r.URL.Path)
				}
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				if tt.header.Get("X-Status") == "404" {
					w.WriteHeader(http.StatusNotFound)
				}
				io.WriteString(w, tt.body)
			}))
			defer ts.Close()
			got, err := newTestClient(t, hostOf(ts)).Ping(context.Background())
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Ping = %+v, want %+v", got, tt.want)
			}
		})
	}
}

type failingTransport struct{}

func (failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, errors.New("no request should be sent to " + r.URL.String())
}

func TestPingPublicIndexSendsNothing(t *testing.T) {
	for _, name := range []string{"docker.io", "index.docker.io", "https://index.docker.io/v1/"} {
		c, err := NewClient(name, WithTransport(failingTransport{}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Endpoint().String() != DockerHubIndex {
			t.Errorf("%s: endpoint %s, want %s", name, c.Endpoint(), DockerHubIndex)
		}
		got, err := c.Ping(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got.Standalone {
			t.Errorf("%s: the public index is not standalone", name)
		}
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"registry.example.com", "https://registry.example.com/v1/", ""},
		{"Localhost:5000", "https://localhost:5000/v1/", ""},
		{"http://127.0.0.1:5000", "http://127.0.0.1:5000/v1/", ""},
		{"https://host/v1", "https://host/v1/", ""},
		{"https://host/v1/", "https://host/v1/", ""},
		{"https://host/mirror/", "https://host/mirror/v1/", ""},
		{"registry-1.docker.io", DockerHubIndex, ""},
		{"", "", "empty"},
		{"ftp://host", "", "scheme"},
		{"https://user:pw@host", "", "user"},
		{"https://host/v1/?x=1", "", "query"},
		{"https://:5000", "", "no host"},
	}
	for _, tt := range tests {
		u, err := ParseEndpoint(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseEndpoint(%q) = %v, %v; want an error about %q", tt.in, u, err, tt.err)
			}
			continue
		}
		if err != nil || u.String() != tt.want {
			t.Errorf("ParseEndpoint(%q) = %v, %v; want %s", tt.in, u, err, tt.want)
		}
	}
}

func TestParseEndpointsHeader(t *testing.T) {
	got, err := parseEndpointsHeader([]string{" a.example.com , b.example.com:5000", "https://c.example.com/v1/", "a.example.com"}, "https")
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, u := range got {
		s = append(s, u.String())
	}
	want := []string{"https://a.example.com/v1/", "https://b.example.com:5000/v1/", "https://c.example.com/v1/"}
	if !slices.Equal(s, want) {
		t.Errorf("endpoints = %q, want %q", s, want)
	}
	for _, bad := range []string{"evil.com/path", "user@evil.com", "a b"} {
		if _, err := parseEndpointsHeader([]string{bad}, "https"); err == nil {
			t.Errorf("X-Docker-Endpoints %q accepted", bad)
		}
	}
}
