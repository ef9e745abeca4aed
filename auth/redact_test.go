package auth

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestRedactHeaders(t *testing.T) {
	h := http.Header{
		"Authorization":   {"Bearer eyJhbGciOi.secret.sig"},
		"X-Registry-Auth": {"eyJ1c2VybmFtZSI6ImEiLCJwYXNzd29yZCI6ImIifQ=="},
		"X-Docker-Token":  {"signature=abc,repository=\"a\",access=read"},
		"Cookie":          {"session=s3cret"},
		"Accept":          {"application/json"},
	}
	got := RedactHeaders(h)
	if got.Get("Authorization") != "Bearer [redacted]" || got.Get("X-Registry-Auth") != "[redacted]" ||
		got.Get("X-Docker-Token") != "[redacted]" || got.Get("Cookie") != "[redacted]" || got.Get("Accept") != "application/json" {
		t.Fatalf("RedactHeaders = %v", got)
	}
	if h.Get("Authorization") != "Bearer eyJhbGciOi.secret.sig" {
		t.Fatal("RedactHeaders modified its argument")
	}
}

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

func TestRedactURL(t *testing.T) {
	u, _ := url.Parse("https://user:pw@storage.example/blob?X-Amz-Signature=abc&X-Amz-Date=1&token=t")
	got := RedactURL(u)
	if strings.Contains(got, "pw") || strings.Contains(got, "abc") || strings.Contains(got, "=t") || !strings.Contains(got, "X-Amz-Date=1") {
		t.Fatalf("RedactURL = %s", got)
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
