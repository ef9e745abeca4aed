package errdef

// OptionHint is an error whose fix is a library option. Its message names
// the option as a Go caller writes it ("hosts.Config.Insecure",
// "copy.WithPlatforms"), never a command-line flag: library errors name
// library options. A program with flags of its own (the hoist command)
// finds it with errors.As and replaces Hint() in the message with its
// flag.
type OptionHint struct {
	// Err is what went wrong.
	Err error
	// Action says what the option does about it: "allow plain http",
	// "raise the cap", "pick one".
	Action string
	// Option names the option, e.g. "hosts.Config.Insecure".
	Option string
	// Value is the value to give it (a host, "os/arch"), or "" when there
	// is none to suggest.
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
