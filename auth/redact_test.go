package auth

import (
	"fmt"
	"strings"
	"testing"
)

func TestRedactBodies(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		secrets                 []string
		keep                    []string
	}{
		{"token response", "application/json", `{"token":"T1","access_token":"T2","refresh_token":"R","expires_in":300}`,
			[]string{"T1", "T2", `"R"`}, []string{`"expires_in":300`}},
		{"nested config", "application/vnd.docker+json", `{"auths":{"h":{"auth":"dTpw","identitytoken":"idt"}},"x":[{"password":"pw"}]}`,
			[]string{"dTpw", "idt", `"pw"`}, []string{`"h"`}},
		{"oauth form", "application/x-www-form-urlencoded", "grant_type=password&username=alice&password=hunter2&refresh_token=rt",
			[]string{"hunter2", "rt"}, []string{"username=alice", "grant_type=password"}},
		{"broken JSON is hidden whole", "application/json", `{"token":"T1"`, []string{"T1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(RedactBody(tt.contentType, []byte(tt.body)))
			for _, s := range tt.secrets {
				if strings.Contains(got, s) {
					t.Errorf("%q still holds %q", got, s)
				}
			}
			for _, s := range tt.keep {
				if !strings.Contains(got, s) {
					t.Errorf("%q lost %q", got, s)
				}
			}
		})
	}
}

func TestCredentialPrintsNoSecret(t *testing.T) {
	c := Credential{Username: "alice", Password: "hunter2", IdentityToken: "idt", RegistryToken: "rt"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, c); strings.Contains(s, "hunter2") || strings.Contains(s, "idt") || strings.Contains(s, "rt\"") {
			t.Errorf("%s printed %s", verb, s)
		}
	}
}
