package testutil

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The fixtures are only useful if the registry really enforces what they
// configure, so check that once here, with bare net/http.
func TestRegistryTokenAuth(t *testing.T) {
	ts := NewTokenServer(t, map[string]string{"alice": "secret"}, time.Minute, false)
	reg := NewRegistry(t, WithTokenAuth(ts))

	resp, err := http.Get(reg.URL + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), ts.URL) {
		t.Fatalf("GET /v2/ without a token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	req, _ := http.NewRequest("GET", ts.URL+"/token?service="+ts.Service+"&scope=repository:a/b:pull,push", nil)
	req.SetBasicAuth("alice", "secret")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.Token == "" {
		t.Fatalf("token: %v %+v", err, tok)
	}
	resp.Body.Close()

	req, _ = http.NewRequest("POST", reg.URL+"/v2/a/b/blobs/uploads/", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST upload with a push token: %d", resp.StatusCode)
	}
}

func TestRegistryHtpasswdTLS(t *testing.T) {
	ca := NewCA(t, "test CA")
	reg := NewRegistry(t, WithHtpasswd(map[string]string{"bob": "pw"}), WithTLS(ca.Server(t)))
	c := reg.Server.Client()
	req, _ := http.NewRequest("GET", reg.URL+"/v2/", nil)
	req.SetBasicAuth("bob", "pw")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Fatalf("GET /v2/ with Basic over TLS: %d", resp.StatusCode)
	}
}
