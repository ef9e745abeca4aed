package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/url"
	"strings"
)

// redacted replaces every secret these helpers hide.
const redacted = "[redacted]"

// secretKeys are the JSON members and form fields that hold secrets,
// compared in lower case. (URLs are redacted by errcode.RedactURL, headers
// by transport.RedactHeaders.)
var secretKeys = map[string]bool{
	"password": true, "secret": true, "auth": true,
	"token": true, "access_token": true, "refresh_token": true, "id_token": true,
	"identitytoken": true, "registrytoken": true, "client_secret": true,
	"signature": true, "x-amz-signature": true, "sig": true,
}

// RedactJSON returns body with the string values of secret members
// ("token", "access_token", "refresh_token", "password", "secret", "auth",
// "identitytoken", "registrytoken", ...) replaced at any depth, in compact
// form. A body that is not valid JSON is replaced as a whole, since hoist
// cannot tell which part of it is secret.
func RedactJSON(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return []byte("[redacted: not JSON]")
	}
	out, err := json.Marshal(redactValue(v))
	if err != nil {
		return []byte("[redacted: not JSON]")
	}
	return out
}

func redactValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if _, isString := e.(string); isString && secretKeys[strings.ToLower(k)] {
				t[k] = redacted
			} else {
				t[k] = redactValue(e)
			}
		}
	case []any:
		for i := range t {
			t[i] = redactValue(t[i])
		}
	}
	return v
}

// RedactForm returns an application/x-www-form-urlencoded body with the
// values of secret fields (password, refresh_token, client_secret, ...)
// replaced. A body that does not parse is replaced as a whole.
func RedactForm(body string) string {
	q, err := url.ParseQuery(body)
	if err != nil {
		return "[redacted: not a form]"
	}
	redactValues(q)
	return q.Encode()
}

func redactValues(q url.Values) {
	for k := range q {
		if secretKeys[strings.ToLower(k)] {
			q[k] = []string{redacted}
		}
	}
}

// RedactBody redacts a request or response body for a log according to its
// Content-Type: JSON bodies with RedactJSON, form bodies with RedactForm;
// other bodies are returned as they are.
func RedactBody(contentType string, body []byte) []byte {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return RedactJSON(body)
	case mt == "application/x-www-form-urlencoded":
		return []byte(RedactForm(string(body)))
	}
	return body
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
