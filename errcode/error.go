package errcode

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Error is a registry's answer to a request that did not succeed.
//
// The zero value is not useful; build one with FromResponse. An *Error is
// immutable once built and safe to share between goroutines.
type Error struct {
	// Method is the request method, e.g. "GET".
	Method string
	// URL is the request URL with credentials and signed query values
	// replaced by "REDACTED" (see RedactURL). It is the URL that answered,
	// after any redirects.
	URL string
	// Status is the HTTP status code.
	Status int
	// Errors are the OCI error entries from a JSON body, in order.
	Errors []Entry
	// Text is readable text from a body that held no OCI error entries
	// (an HTML page with its markup stripped, a plain-text message), cut to
	// a few hundred characters. Empty when Errors is set.
	Text string
	// RetryAfter is how long the registry asked the client to wait, from a
	// Retry-After header (seconds or an HTTP date); 0 when it did not say.
	RetryAfter time.Duration
	// Challenge is the WWW-Authenticate header of a 401, as sent.
	Challenge string
}

// FromResponse builds an *Error from resp: it reads at most MaxBody bytes of
// resp.Body and closes it. It does not look at whether the status is a
// failure; callers decide that. A HEAD response, having no body, yields an
// error with only the status.
func FromResponse(resp *http.Response) *Error {
	e := &Error{Status: resp.StatusCode}
	if req := resp.Request; req != nil {
		e.Method = req.Method
		if req.URL != nil {
			e.URL = RedactURL(req.URL)
		}
	}
	if resp.Body != nil {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
		resp.Body.Close()
		if e.Method != http.MethodHead {
			e.Errors, e.Text = ParseBody(resp.Header.Get("Content-Type"), body)
		}
	}
	e.RetryAfter = retryAfter(resp.Header, time.Now())
	if resp.StatusCode == http.StatusUnauthorized {
		e.Challenge = resp.Header.Get("WWW-Authenticate")
	}
	return e
}

// retryAfter reads Retry-After as delay seconds or an HTTP date. A date is
// measured from the response's own Date header when it has one, so clock
// skew between client and registry does not distort the wait.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		if s > int64(24*time.Hour/time.Second) {
			s = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(s) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		now = d
	}
	if wait := t.Sub(now); wait > 0 {
		return wait.Round(time.Second)
	}
	return 0
}

// Is reports whether the error matches target, one of this package's
// sentinels, by any of its OCI error codes or by its status.
func (e *Error) Is(target error) bool {
	if s := statusSentinel(e.Status); s != nil && s == target {
		return true
	}
	for _, en := range e.Errors {
		if s, ok := codeSentinels[en.Code]; ok && s == target {
			return true
		}
	}
	return false
}

// HasCode reports whether the registry sent code among its error entries.
func (e *Error) HasCode(code Code) bool {
	for _, en := range e.Errors {
		if en.Code == code {
			return true
		}
	}
	return false
}

// Host returns the host of the request URL, or "" when unknown.
func (e *Error) Host() string {
	u, err := url.Parse(e.URL)
	if err != nil {
		return ""
	}
	return u.Host
}

// Error returns one line: the request, the status, what the registry said,
// and the fix when there is an obvious one.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteByte(' ')
	}
	if e.URL != "" {
		b.WriteString(e.URL)
		b.WriteString(": ")
	}
	b.WriteString(strconv.Itoa(e.Status))
	if t := http.StatusText(e.Status); t != "" {
		b.WriteByte(' ')
		b.WriteString(t)
	}
	for i, en := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(string(en.Code))
		if en.Message != "" {
			b.WriteString(": ")
			b.WriteString(en.Message)
		}
	}
	if e.Text != "" {
		b.WriteString(": ")
		b.WriteString(strconv.Quote(e.Text))
	}
	if e.Status == http.StatusUnauthorized && len(e.Errors) == 0 && e.Text == "" {
		// A HEAD answer has no body to say it; the status means this.
		b.WriteString(": authentication required")
	}
	if hint := e.hint(); hint != "" {
		b.WriteString(" (")
		b.WriteString(hint)
		b.WriteByte(')')
	}
	return b.String()
}

func (e *Error) hint() string {
	host := e.Host()
	if host == "" {
		host = "HOST"
	}
	switch {
	case errors.Is(e, ErrUnauthorized):
		return "log in with `hoist login " + host + "`"
	case errors.Is(e, ErrDenied):
		return "the credentials in use lack access to this repository; check the name, or log in with `hoist login " + host + "` as a user who has it"
	case errors.Is(e, ErrRateLimited):
		if e.RetryAfter > 0 {
			return fmt.Sprintf("the registry asks to wait %s before retrying", e.RetryAfter)
		}
		return "the registry is rate limiting; wait and retry, or log in to raise the limit"
	case errors.Is(e, ErrTooLarge):
		return "the registry or a proxy in front of it limits the body size"
	case errors.Is(e, ErrServer):
		if e.RetryAfter > 0 {
			return fmt.Sprintf("the registry failed; it asks to retry after %s", e.RetryAfter)
		}
		return "the registry failed; retry later"
	}
	return ""
}
