package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// maxPasswordSize caps a password or token read from stdin.
const maxPasswordSize = 64 << 10

// readPassword reads a password or token the way --password-stdin does:
// all of r, without the trailing line ending. Empty input, and input over
// 64 KiB, are errors.
func readPassword(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxPasswordSize+1))
	if err != nil {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	if len(b) > maxPasswordSize {
		return "", fmt.Errorf("the password on stdin is longer than %d bytes", maxPasswordSize)
	}
	p := strings.TrimRight(string(b), "\r\n")
	if p == "" {
		return "", errors.New("no password on stdin: pipe one in, e.g. `cat pw.txt | hoist login --password-stdin -u USER HOST`")
	}
	return p, nil
}

// promptPassword writes prompt to out and reads a line from the terminal
// in without echoing it. in must be a terminal; otherwise it is an error
// that points to --password-stdin. An empty answer is an error.
func promptPassword(in *os.File, out io.Writer, prompt string) (string, error) {
	fd := int(in.Fd())
	if !term.IsTerminal(fd) {
		return "", errors.New("cannot prompt for a password: stdin is not a terminal; use --password-stdin")
	}
	if _, err := io.WriteString(out, prompt); err != nil {
		return "", err
	}
	b, err := term.ReadPassword(fd)
	_, _ = io.WriteString(out, "\n") // the user's Enter was not echoed
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	if len(b) == 0 {
		return "", errors.New("empty password")
	}
	return string(b), nil
}
