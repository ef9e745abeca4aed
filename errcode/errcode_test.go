package errcode

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const nginx403 = `<html>
<head><title>403 Forbidden</title></head>
<body>
<center><h1>403 Forbidden</h1></center>
<hr><center>nginx/1.22.1</center>
</body>
</html>
<!-- a padding to disable MSIE and Chrome friendly error page -->
`

func TestParseBody(t *testing.T) {
	tests := []struct {
		name, ctype, body string
		codes             []Code
		messages          []string
		text              string
	}{
		{
			name:  "oci",
			ctype: "application/json",
			body:  `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}},{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}`,
			codes: []Code{CodeManifestUnknown, CodeNameUnknown}, messages: []string{"manifest unknown", "repository name not known to registry"},
		},
		{
			name:  "harbor api shape, lower case code",
			ctype: "application/json; charset=utf-8",
			body:  `{"errors":[{"code":"not_found","message":"artifact library/app:v9 not found"}]}`,
			codes: []Code{"NOT_FOUND"}, messages: []string{"artifact library/app:v9 not found"},
		},
		{
			name:  "top-level code and message",
			ctype: "application/json",
			body:  `{"code":"DENIED","message":"project is read-only"}`,
			codes: []Code{CodeDenied}, messages: []string{"project is read-only"},
		},
		{
			name:  "token server details",
			ctype: "application/json",
			body:  `{"details":"incorrect username or password"}`,
			codes: []Code{CodeUnknown}, messages: []string{"incorrect username or password"},
		},
		{
			name:  "quay error string",
			ctype: "application/json",
			body:  `{"error": "Invalid\nrepository   name"}`,
			codes: []Code{CodeUnknown}, messages: []string{"Invalid repository name"},
		},
		{
			name:  "errors not an array falls back to message",
			ctype: "application/json",
			body:  `{"errors":"boom","message":"upstream unavailable"}`,
			codes: []Code{CodeUnknown}, messages: []string{"upstream unavailable"},
		},
		{
			name:  "nginx html",
			ctype: "text/html",
			body:  nginx403,
			text:  "403 Forbidden nginx/1.22.1",
		},
		{
			name: "html without content type, scripts and entities",
			body: `<!DOCTYPE html><html><head><style>p{color:red}</style><script type="x">var a = "<b>";</script></head><body><p>Harbor&nbsp;is &lt;down&gt; &amp; out</p></body></html>`,
			text: "Harbor is <down> & out",
		},
		{
			name:  "plain text",
			ctype: "text/plain",
			body:  "upstream connect error or disconnect/reset before headers.\r\n reset reason: overflow",
			text:  "upstream connect error or disconnect/reset before headers. reset reason: overflow",
		},
		{
			name: "unrecognised json is shown as text",
			body: `{"ok":false}`,
			text: `{"ok":false}`,
		},
		{name: "empty", body: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, text := ParseBody(tt.ctype, []byte(tt.body))
			if len(entries) != len(tt.codes) {
				t.Fatalf("entries = %+v, want codes %v", entries, tt.codes)
			}
			for i, e := range entries {
				if e.Code != tt.codes[i] || e.Message != tt.messages[i] {
					t.Errorf("entry %d = %s %q, want %s %q", i, e.Code, e.Message, tt.codes[i], tt.messages[i])
				}
			}
			if text != tt.text {
				t.Errorf("text = %q, want %q", text, tt.text)
			}
		})
	}
}

func TestParseBodyCapsText(t *testing.T) {
	_, text := ParseBody("text/plain", []byte(strings.Repeat("é", 5000)))
	if n := len([]rune(text)); n != maxText || !strings.HasSuffix(text, "…") {
		t.Fatalf("text is %d runes, ends %q; want %d ending in an ellipsis", n, text[len(text)-8:], maxText)
	}
}

// serve answers every request with the given status, headers and body.
func serve(t *testing.T, status int, header map[string]string, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func fetch(t *testing.T, method, u string) *Error {
	t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return FromResponse(resp)
}

func TestFromResponse(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		header   map[string]string
		body     string
		is       []error
		isNot    []error
		contains []string
		retry    time.Duration
	}{
		{
			name: "manifest unknown", status: 404,
			header:   map[string]string{"Content-Type": "application/json"},
			body:     `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`,
			is:       []error{ErrNotFound},
			isNot:    []error{ErrUnauthorized, ErrDenied, ErrServer},
			contains: []string{"GET ", "/v2/app/manifests/v1: 404 Not Found: MANIFEST_UNKNOWN: manifest unknown"},
		},
		{
			name: "unauthorized names the login command", status: 401,
			header:   map[string]string{"Content-Type": "application/json", "WWW-Authenticate": `Bearer realm="https://auth/token"`},
			body:     `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`,
			is:       []error{ErrUnauthorized},
			contains: []string{"UNAUTHORIZED: authentication required", "log in with `hoist login 127.0.0.1:"},
		},
		{
			name: "nginx 403 page carries its text", status: 403,
			header:   map[string]string{"Content-Type": "text/html"},
			body:     nginx403,
			is:       []error{ErrDenied},
			contains: []string{`403 Forbidden: "403 Forbidden nginx/1.22.1"`, "lack access"},
		},
		{
			name: "429 with Retry-After", status: 429,
			header:   map[string]string{"Content-Type": "application/json", "Retry-After": "1"},
			body:     `{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}`,
			is:       []error{ErrRateLimited},
			retry:    time.Second,
			contains: []string{"wait 1s"},
		},
		{
			name: "429 with an HTTP date measured from Date", status: 429,
			header: map[string]string{
				"Date":        "Mon, 02 Jan 2006 15:04:05 GMT",
				"Retry-After": "Mon, 02 Jan 2006 15:04:35 GMT",
			},
			is:    []error{ErrRateLimited},
			retry: 30 * time.Second,
		},
		{
			name: "500 plain text", status: 500,
			body:     "internal server error\n",
			is:       []error{ErrServer},
			contains: []string{`500 Internal Server Error: "internal server error"`, "retry later"},
		},
		{
			name: "405 is unsupported", status: 405,
			body: `{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}`,
			is:   []error{ErrUnsupported},
		},
		{
			name: "digest invalid", status: 400,
			body:  `{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"}]}`,
			is:    []error{ErrDigestMismatch},
			isNot: []error{ErrNotFound, ErrServer},
		},
		{
			name: "413", status: 413, body: "<html><body>Request Entity Too Large</body></html>",
			is: []error{ErrTooLarge},
		},
		{
			// Docker Hub answers an unknown repository this way.
			name: "401 with code that also means not found", status: 401,
			body: `{"errors":[{"code":"UNAUTHORIZED","message":"x"},{"code":"NAME_UNKNOWN","message":"y"}]}`,
			is:   []error{ErrUnauthorized, ErrNotFound},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, tt.status, tt.header, tt.body)
			e := fetch(t, http.MethodGet, srv.URL+"/v2/app/manifests/v1")
			var err error = fmt.Errorf("pull: %w", e)
			for _, s := range tt.is {
				if !errors.Is(err, s) {
					t.Errorf("errors.Is(%v, %v) = false", err, s)
				}
			}
			for _, s := range tt.isNot {
				if errors.Is(err, s) {
					t.Errorf("errors.Is(%v, %v) = true", err, s)
				}
			}
			var as *Error
			if !errors.As(err, &as) || as.Status != tt.status {
				t.Fatalf("errors.As: %v", err)
			}
			if as.RetryAfter != tt.retry {
				t.Errorf("RetryAfter = %v, want %v", as.RetryAfter, tt.retry)
			}
			msg := e.Error()
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("message is not one line: %q", msg)
			}
			for _, c := range tt.contains {
				if !strings.Contains(msg, c) {
					t.Errorf("message %q lacks %q", msg, c)
				}
			}
		})
	}
}

func TestFromResponseCapsBody(t *testing.T) {
	srv := serve(t, 502, map[string]string{"Content-Type": "text/plain"}, strings.Repeat("x", 10*MaxBody))
	e := fetch(t, http.MethodGet, srv.URL+"/v2/")
	if len(e.Text) > maxText+4 {
		t.Fatalf("text is %d bytes", len(e.Text))
	}
}

func TestFromResponseHead(t *testing.T) {
	srv := serve(t, 404, nil, "")
	e := fetch(t, http.MethodHead, srv.URL+"/v2/a/blobs/sha256:00")
	if !errors.Is(e, ErrNotFound) || e.Method != "HEAD" {
		t.Fatalf("%v", e)
	}
}

func TestRedactURL(t *testing.T) {
	u, _ := url.Parse("https://user:pw@s3.example.com/v2/a/blobs/uploads/123?_state=abc&digest=sha256%3A01&X-Amz-Signature=deadbeef&n=2")
	got := RedactURL(u)
	for _, secret := range []string{"pw", "abc", "deadbeef"} {
		if strings.Contains(got, secret) {
			t.Errorf("%s leaks %q", got, secret)
		}
	}
	for _, keep := range []string{"digest=sha256%3A01", "n=2", "user:REDACTED@"} {
		if !strings.Contains(got, keep) {
			t.Errorf("%s lacks %q", got, keep)
		}
	}
}

// A presigned storage URL, as auth and transport render realm and
// redirect URLs in errors and logs, shows none of its secrets.
func TestRedactURLPresigned(t *testing.T) {
	u, _ := url.Parse("https://user:pw@storage.example/blob?X-Amz-Signature=abc&X-Amz-Date=1&token=t&access_token=at")
	got := RedactURL(u)
	r, err := url.Parse(got)
	if err != nil {
		t.Fatalf("%s does not parse: %v", got, err)
	}
	if pw, _ := r.User.Password(); pw != "REDACTED" || r.Host != "storage.example" || r.Path != "/blob" {
		t.Errorf("%s: want the password hidden, host and path kept", got)
	}
	for _, k := range []string{"X-Amz-Signature", "token", "access_token"} {
		if v := r.Query().Get(k); v != "REDACTED" {
			t.Errorf("%s shows %s=%q", got, k, v)
		}
	}
}

func FuzzParseBody(f *testing.F) {
	f.Add("application/json", []byte(`{"errors":[{"code":"DENIED","message":"no","detail":[1,2]}]}`))
	f.Add("text/html", []byte(nginx403))
	f.Add("", []byte(`{"code":404,"message":{"a":1}}`))
	f.Add("text/plain", []byte("\xff\xfe<scr"))
	f.Add("", []byte(`<script>never closed`))
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		entries, text := ParseBody(ctype, body)
		if len(entries) > maxEntries {
			t.Fatalf("%d entries", len(entries))
		}
		if len(entries) > 0 && text != "" {
			t.Fatalf("both entries and text")
		}
		if n := len([]rune(text)); n > maxText {
			t.Fatalf("text of %d runes", n)
		}
		e := &Error{Method: "GET", URL: "https://r/v2/", Status: 400, Errors: entries, Text: text}
		msg := e.Error()
		if strings.ContainsAny(msg, "\r\n") {
			t.Fatalf("multi-line message %q", msg)
		}
		for _, en := range entries {
			if en.Code == "" {
				t.Fatalf("entry without code: %+v", en)
			}
			if strings.ContainsAny(en.Message, "\r\n") {
				t.Fatalf("multi-line entry message %q", en.Message)
			}
		}
	})
}
