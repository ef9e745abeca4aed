package reference

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// ErrInvalid is matched, through errors.Is, by every error this package
// returns: the input is not a valid reference, name, tag or digest. Callers
// treat it as the user's mistake (a usage error), never as a failure to
// retry.
var ErrInvalid = errors.New("invalid image reference")

// Error says which part of an input was rejected and why. It matches
// ErrInvalid with errors.Is and also unwraps to Err when that is set.
type Error struct {
	// Input is the whole string that was being parsed or validated.
	Input string
	// Part names what was wrong: "reference", "registry host", "port",
	// "repository", "repository path component", "tag", "digest",
	// "repository name", or one of the "v1 ..." parts of ParseV1.
	Part string
	// Value is the offending part as written; it equals Input when the
	// whole input is at fault.
	Value string
	// Reason says what is wrong and, where there is one, the fix.
	Reason string
	// Err is an underlying cause, such as go-digest's
	// digest.ErrDigestInvalidLength; nil when there is none.
	Err error

	// msg, when set, replaces the generic wording built from the fields.
	msg string
}

// Error returns one line naming the bad part, the input it came from, and
// the fix, e.g. `invalid tag "-x" in "ubuntu:-x": tags start with ...`.
func (e *Error) Error() string {
	if e.msg != "" {
		return e.msg
	}
	s := fmt.Sprintf("invalid %s %q", e.Part, e.Value)
	if e.Input != e.Value {
		s += fmt.Sprintf(" in %q", e.Input)
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Unwrap returns ErrInvalid and, when set, Err.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalid, e.Err}
	}
	return []error{ErrInvalid}
}

// invalid builds the usual error: invalid PART "VALUE" in "INPUT": REASON.
func invalid(input, part, value, reason string) *Error {
	return &Error{Input: input, Part: part, Value: value, Reason: reason}
}

// invalidRef blames the whole input: invalid reference "INPUT": REASON.
func invalidRef(input, reason string) *Error {
	return invalid(input, "reference", input, reason)
}

// charAt quotes the character that starts at s[i] for a message: 'é' for
// a valid UTF-8 character, "\xff" for a stray byte.
func charAt(s string, i int) string {
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size <= 1 {
		return strconv.Quote(s[i : i+1])
	}
	return strconv.QuoteRune(r)
}
