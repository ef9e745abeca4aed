package transport

import "errors"

// OptionHint is an error whose fix is a library option. Its message names
// the option as a Go caller writes it ("hosts.Config.Insecure",
// "distribution.WithMaxManifestSize"), never a command-line flag; a program
// with flags of its own (the hoist command) finds it with errors.As and
// replaces Hint() in the message with its flag.
type OptionHint struct {
	// Err is what went wrong.
	Err error
	// Action says what the option does about it: "allow plain http",
	// "raise the cap".
	Action string
	// Option names the option, e.g. "hosts.Config.Insecure".
	Option string
	// Value is the value to give it (a host), or "" when there is none to
	// suggest.
	Value string
}

// Error returns Err's message followed by the hint in parentheses.
func (e *OptionHint) Error() string { return e.Err.Error() + " (" + e.Hint() + ")" }

// Hint is the part of the message that names the option: "ACTION with
// OPTION" and, when Value is set, "for VALUE".
func (e *OptionHint) Hint() string {
	h := e.Action + " with " + e.Option
	if e.Value != "" {
		h += " for " + e.Value
	}
	return h
}

// Unwrap returns Err.
func (e *OptionHint) Unwrap() error { return e.Err }

// ErrNoTLS is wrapped by the error for an https request to a host that
// answered in plain http and may not be spoken to that way (it is neither
// loopback nor insecure by the host policy).
var ErrNoTLS = errors.New("the host answers plain http, not TLS")
