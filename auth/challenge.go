package auth

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Challenge is one challenge from a WWW-Authenticate header (RFC 7235
// section 4.1): a scheme with either auth-params or a token68.
type Challenge struct {
	// Scheme is the auth-scheme in lower case, e.g. "basic" or "bearer".
	Scheme string
	// Params holds the auth-params with lower-case names and unquoted
	// values, or nil. A name given twice keeps its first value.
	Params map[string]string
	// Token68 is the token68 form's value, when the challenge uses it.
	Token68 string
}

// String renders c as a challenge that ParseChallenges reads back as c:
// the scheme, then the token68 or the params sorted by name and quoted.
func (c Challenge) String() string {
	var b strings.Builder
	b.WriteString(c.Scheme)
	if c.Token68 != "" {
		b.WriteString(" " + c.Token68)
		return b.String()
	}
	names := make([]string, 0, len(c.Params))
	for k := range c.Params {
		names = append(names, k)
	}
	sort.Strings(names)
	for i, k := range names {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteString(", ")
		}
		b.WriteString(k + "=" + quote(c.Params[k]))
	}
	return b.String()
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// ParseChallenges parses one WWW-Authenticate header value, which may hold
// several comma-separated challenges whose parameters are themselves
// comma-separated; quoted strings may contain commas and backslash escapes.
// An error describes where the value stops following RFC 7235.
func ParseChallenges(header string) ([]Challenge, error) {
	p := &challengeParser{s: header}
	var out []Challenge
	p.skipSeparators()
	for !p.eof() {
		c, err := p.challenge()
		if err != nil {
			return nil, fmt.Errorf("WWW-Authenticate %s: %w", quoteHeader(header), err)
		}
		out = append(out, c)
	}
	return out, nil
}

// maxQuoted is how much of a header value an error quotes: a registry
// can send a megabyte of it.
const maxQuoted = 96

// quoteHeader quotes header for an error, cut to maxQuoted bytes.
func quoteHeader(header string) string {
	if len(header) <= maxQuoted {
		return strconv.Quote(header)
	}
	return fmt.Sprintf("%q... (%d bytes)", header[:maxQuoted], len(header))
}

// challengesOf parses every WWW-Authenticate header of h, skipping values
// that do not parse (a server's one malformed challenge must not hide a
// good one in another header line).
func challengesOf(h http.Header) []Challenge {
	var out []Challenge
	for _, v := range h.Values("WWW-Authenticate") {
		cs, err := ParseChallenges(v)
		if err == nil {
			out = append(out, cs...)
		}
	}
	return out
}

type challengeParser struct {
	s string
	i int
}

func (p *challengeParser) eof() bool { return p.i >= len(p.s) }

func (p *challengeParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.i]
}

func (p *challengeParser) fail(want string) error {
	if p.eof() {
		return fmt.Errorf("expected %s at the end", want)
	}
	return fmt.Errorf("expected %s at offset %d, found %q", want, p.i, p.s[p.i])
}

// skipOWS skips optional white space and reports whether there was any.
func (p *challengeParser) skipOWS() bool {
	start := p.i
	for !p.eof() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
	return p.i > start
}

// skipSeparators skips the commas and white space of a list, and reports
// whether it saw a comma.
func (p *challengeParser) skipSeparators() bool {
	comma := false
	for !p.eof() && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == ',') {
		comma = comma || p.s[p.i] == ','
		p.i++
	}
	return comma
}

func (p *challengeParser) token() string {
	start := p.i
	for !p.eof() && isTchar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// challenge parses one challenge and the separators after it.
func (p *challengeParser) challenge() (Challenge, error) {
	scheme := p.token()
	if scheme == "" {
		return Challenge{}, p.fail("an auth scheme")
	}
	c := Challenge{Scheme: strings.ToLower(scheme)}
	space := p.skipOWS()
	if p.eof() || p.peek() == ',' {
		p.skipSeparators()
		return c, nil
	}
	if !space {
		return Challenge{}, p.fail("a space after the auth scheme")
	}
	if t, ok := p.token68(); ok {
		c.Token68 = t
		p.skipSeparators()
		return c, nil
	}
	comma := false
	for !p.eof() {
		save := p.i
		name := p.token()
		if name == "" {
			return Challenge{}, p.fail("an auth-param name")
		}
		p.skipOWS()
		if p.peek() != '=' {
			if !comma {
				return Challenge{}, p.fail(`"=" after the auth-param name`)
			}
			p.i = save // the next challenge's scheme
			return c, nil
		}
		p.i++
		p.skipOWS()
		var value string
		if p.peek() == '"' {
			v, err := p.quoted()
			if err != nil {
				return Challenge{}, err
			}
			value = v
		} else if value = p.token(); value == "" {
			return Challenge{}, p.fail("an auth-param value")
		}
		name = strings.ToLower(name)
		if c.Params == nil {
			c.Params = map[string]string{}
		}
		if _, dup := c.Params[name]; !dup {
			c.Params[name] = value
		}
		p.skipOWS()
		if !p.eof() && p.peek() != ',' {
			return Challenge{}, p.fail("a comma")
		}
		comma = p.skipSeparators()
	}
	return c, nil
}

// token68 reads a token68 when the challenge has one: token68 characters,
// optional "=" padding, then the end or a comma. Otherwise it consumes
// nothing.
func (p *challengeParser) token68() (string, bool) {
	start := p.i
	j := p.i
	for j < len(p.s) && isToken68Char(p.s[j]) {
		j++
	}
	if j == start {
		return "", false
	}
	for j < len(p.s) && p.s[j] == '=' {
		j++
	}
	end := j
	for j < len(p.s) && (p.s[j] == ' ' || p.s[j] == '\t') {
		j++
	}
	if j < len(p.s) && p.s[j] != ',' {
		return "", false
	}
	p.i = j
	return p.s[start:end], true
}

// quoted reads a quoted-string and returns its unescaped value.
func (p *challengeParser) quoted() (string, error) {
	p.i++ // the opening quote
	var b strings.Builder
	for !p.eof() {
		ch := p.s[p.i]
		switch {
		case ch == '"':
			p.i++
			return b.String(), nil
		case ch == '\\':
			p.i++
			if p.eof() || !isQuotable(p.s[p.i]) {
				return "", p.fail("an escaped character after a backslash")
			}
			b.WriteByte(p.s[p.i])
		case isQuotable(ch):
			b.WriteByte(ch)
		default:
			return "", p.fail("a character allowed in a quoted string")
		}
		p.i++
	}
	return "", p.fail(`a closing '"'`)
}

// isTchar reports whether ch may appear in a token (RFC 7230 tchar).
func isTchar(ch byte) bool {
	switch {
	case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", ch) >= 0
}

func isToken68Char(ch byte) bool {
	switch {
	case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9':
		return true
	}
	return strings.IndexByte("-._~+/", ch) >= 0
}

// isQuotable reports whether ch may appear in a quoted string, literally
// or after a backslash: HTAB, SP, VCHAR and obs-text.
func isQuotable(ch byte) bool {
	return ch == '\t' || (ch >= 0x20 && ch != 0x7f)
}
