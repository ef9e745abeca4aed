package auth_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/hoist-dev/hoist/auth"
)

// A registry that wants a Bearer token: the transport meets its challenge,
// asks the token realm for a pull token with the user's credentials, and
// re-sends the request with it.
func ExampleNewTransport() {
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		if user != "alice" || pass != "secret" || r.URL.Query().Get("scope") != "repository:team/app:pull" {
			http.Error(w, "denied", http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"token": "pull-token", "expires_in": 300})
	}))
	defer tokens.Close()
	registry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer pull-token" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+tokens.URL+`/token",service="example"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"name":"team/app","tags":["v1"]}`)
	}))
	defer registry.Close()

	host := registry.Listener.Addr().String()
	// In hoist, creds is auth.NewConfigStore() (docker's config.json and
	// helpers), and base is the transport package's RoundTripper.
	creds := auth.Static(auth.Credential{Username: "alice", Password: "secret"})
	client := &http.Client{Transport: auth.NewTransport(http.DefaultTransport, host, creds)}

	resp, err := client.Get(registry.URL + "/v2/team/app/tags/list")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var tags struct{ Tags []string }
	json.NewDecoder(resp.Body).Decode(&tags)
	fmt.Println(resp.Status, tags.Tags)
	// Output: 200 OK [v1]
}
