package errcode

import (
	"bytes"
	"encoding/json"
	"html"
	"mime"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxBody is how many bytes of an error body FromResponse reads. Error
// bodies are untrusted and only ever need to be long enough to explain.
const MaxBody = 64 << 10

const (
	maxText    = 512 // runes of readable text kept from a non-JSON body
	maxEntries = 16  // OCI error entries kept
	maxMessage = 512 // runes kept of each entry's message
)

// ParseBody reads a registry error body. A JSON body in the OCI shape
// ({"errors":[{"code","message","detail"}]}) yields its entries; so do the
// shapes other registries use for the same thing (a top-level "code" and
// "message" as Harbor's API sends, or an "error"/"message"/"details" string
// as token servers and Quay send), mapped to an entry with code UNKNOWN when
// they carry no code. Any other body yields readable text: tags, scripts
// and styles stripped from HTML, entities decoded, whitespace collapsed,
// repeated lines (an nginx page's title and heading) said once, and the
// result cut to a few hundred characters.
//
// ParseBody never fails; a body it cannot make sense of gives no entries and
// whatever text it holds.
func ParseBody(contentType string, body []byte) (entries []Entry, text string) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		if entries, text, ok := parseJSON(trimmed); ok {
			return entries, text
		}
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "text/html" || mt == "application/xhtml+xml" || (len(trimmed) > 0 && trimmed[0] == '<') {
		return nil, clip(stripHTML(string(trimmed)), maxText)
	}
	return nil, clip(collapse(string(trimmed)), maxText)
}

// errorBody is every JSON error shape ParseBody understands. Fields are raw
// so one field of an unexpected type does not spoil the others.
type errorBody struct {
	Errors           json.RawMessage `json:"errors"`
	Code             json.RawMessage `json:"code"`
	Message          json.RawMessage `json:"message"`
	Error            json.RawMessage `json:"error"`
	Details          json.RawMessage `json:"details"`
	Detail           json.RawMessage `json:"detail"`
	ErrorDescription json.RawMessage `json:"error_description"`
}

func parseJSON(b []byte) ([]Entry, string, bool) {
	var eb errorBody
	if err := json.Unmarshal(b, &eb); err != nil {
		return nil, "", false
	}
	var raw []struct {
		Code    json.RawMessage `json:"code"`
		Message json.RawMessage `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	var entries []Entry
	if json.Unmarshal(eb.Errors, &raw) == nil {
		for _, r := range raw {
			if len(entries) == maxEntries {
				break
			}
			e := Entry{Code: normCode(jsonText(r.Code)), Message: clip(jsonText(r.Message), maxMessage)}
			if len(r.Detail) > 0 && string(r.Detail) != "null" {
				e.Detail = r.Detail
			}
			if e.Code == "" && e.Message == "" {
				continue
			}
			if e.Code == "" {
				e.Code = CodeUnknown
			}
			entries = append(entries, e)
		}
	}
	if len(entries) > 0 {
		return entries, "", true
	}
	code := normCode(jsonText(eb.Code))
	msg := jsonText(eb.Message)
	for _, alt := range []json.RawMessage{eb.Error, eb.Details, eb.Detail, eb.ErrorDescription} {
		if msg != "" {
			break
		}
		msg = jsonText(alt)
	}
	msg = clip(msg, maxMessage)
	if code == "" && msg == "" {
		// JSON, but nothing we recognise: show it as text.
		return nil, clip(collapse(string(b)), maxText), true
	}
	if code == "" {
		code = CodeUnknown
	}
	return []Entry{{Code: code, Message: msg}}, "", true
}

// jsonText renders a JSON value as text: a string as itself, a number as
// written, anything else (objects, arrays) as "" so that structured detail
// does not leak into one-line messages.
func jsonText(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return ""
	}
	switch v[0] {
	case '"':
		var s string
		if json.Unmarshal(v, &s) == nil {
			return collapse(s)
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return string(v)
	}
	return ""
}

func normCode(s string) Code {
	return Code(strings.ToUpper(strings.TrimSpace(s)))
}

// stripHTML reduces an HTML page to its visible text.
func stripHTML(s string) string {
	var segs []string
	seen := map[string]bool{}
	emit := func(t string) {
		t = collapse(html.UnescapeString(t))
		if t != "" && !seen[t] {
			seen[t] = true
			segs = append(segs, t)
		}
	}
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			emit(s)
			break
		}
		emit(s[:i])
		s = s[i:]
		switch {
		case strings.HasPrefix(s, "<!--"):
			s = after(s, "-->")
		case hasTagPrefix(s, "<script"), hasTagPrefix(s, "<style"):
			name := "</script"
			if hasTagPrefix(s, "<style") {
				name = "</style"
			}
			s = after(after(s, name), ">")
		default:
			s = after(s, ">")
		}
	}
	return strings.Join(segs, " ")
}

// after returns what follows the first sep in s (case-insensitively), or ""
// when there is none.
// sep must be lower-case ASCII; only ASCII letters of s are folded, so byte
// offsets in s stay valid whatever else it holds.
func after(s, sep string) string {
	for i := 0; i+len(sep) <= len(s); i++ {
		if asciiEqualFold(s[i:i+len(sep)], sep) {
			return s[i+len(sep):]
		}
	}
	return ""
}

func asciiEqualFold(a, lower string) bool {
	for i := 0; i < len(a); i++ {
		c := a[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func hasTagPrefix(s, tag string) bool {
	if len(s) < len(tag) || !strings.EqualFold(s[:len(tag)], tag) {
		return false
	}
	if len(s) == len(tag) {
		return true
	}
	c := s[len(tag)]
	return c == '>' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '/'
}

// collapse makes s one line: valid UTF-8, control characters and runs of
// white space turned into single spaces, trimmed.
func collapse(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// clip cuts s to at most n runes, marking the cut with an ellipsis.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, k := 0, 0
	for i = range s {
		if k == n-1 {
			break
		}
		k++
	}
	return s[:i] + "…"
}
