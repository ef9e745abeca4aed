package transport

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// The debug log of a request shows its path and harmless parameters but
// no credential: not in the headers, the user info or the query.
func TestLogRedacts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "cookie-secret"})
	}))
	defer srv.Close()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tr := New(WithLogger(log), noRetry())
	u := strings.Replace(srv.URL, "http://", "http://alice:pass-secret@", 1) + "/v2/a/blobs/uploads/1?_state=state-secret&digest=sha256:00&n=5"
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer token-secret")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	out := buf.String()
	for _, secret := range []string{"pass-secret", "state-secret", "token-secret", "cookie-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("log shows %q:\n%s", secret, out)
		}
	}
	for _, keep := range []string{"/v2/a/blobs/uploads/1", "n=5", "Bearer [redacted]"} {
		if !strings.Contains(out, keep) {
			t.Errorf("log lacks %q:\n%s", keep, out)
		}
	}
}
