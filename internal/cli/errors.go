package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	lib "github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errdef"
)

// Exit codes beyond DESIGN.md's 0, 1 and 2: a run stopped by a signal
// exits 128 + the signal's number, as shells report it.
const (
	exitInterrupt = 128 + int(syscall.SIGINT)
	exitTerm      = 128 + int(syscall.SIGTERM)
)

// Error kinds, as --json errors name them (docs/json.md).
const (
	kindUsage        = "usage"
	kindInterrupted  = "interrupted"
	kindNotFound     = "notFound"
	kindUnauthorized = "unauthorized"
	kindDenied       = "denied"
	kindRateLimited  = "rateLimited"
	kindNetwork      = "network"
	kindIntegrity    = "integrity"
	kindUnsupported  = "unsupported"
	kindServer       = "server"
	kindFailure      = "failure"
)

// signalError is the cause of a context ended by a signal (see main).
type signalError struct{ sig os.Signal }

func (e signalError) Error() string { return "interrupted by " + e.sig.String() }

// classify returns err's kind and the exit code it gives. ctx is the
// invocation's: its cause says whether a signal ended it.
func classify(ctx context.Context, err error) (kind string, code int) {
	var ue usageError
	var se signalError
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.As(err, &ue):
		return kindUsage, exitUsage
	case ctx.Err() != nil && errors.As(context.Cause(ctx), &se):
		if se.sig == syscall.SIGTERM {
			return kindInterrupted, exitTerm
		}
		return kindInterrupted, exitInterrupt
	case errors.Is(err, errdef.ErrNotFound):
		return kindNotFound, exitFail
	case errors.Is(err, errdef.ErrUnauthorized), errors.Is(err, auth.ErrBadCredentials):
		return kindUnauthorized, exitFail
	case errors.Is(err, errdef.ErrDenied):
		return kindDenied, exitFail
	case errors.Is(err, errdef.ErrRateLimited):
		return kindRateLimited, exitFail
	case errors.Is(err, errdef.ErrDigestMismatch), errors.Is(err, errdef.ErrSizeMismatch):
		return kindIntegrity, exitFail
	case errors.Is(err, errdef.ErrUnsupported):
		return kindUnsupported, exitFail
	case errors.Is(err, errdef.ErrServer):
		return kindServer, exitFail
	case errors.As(err, &oe), errors.As(err, &ne), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF):
		return kindNetwork, exitFail
	}
	return kindFailure, exitFail
}

// jsonError is the document an error is under --json, on stderr.
type jsonError struct {
	Message  string `json:"message"`
	Kind     string `json:"kind"`
	ExitCode int    `json:"exitCode"`
}

// exitCodeError is the exit code of a program hoist ran in its place (the
// server program); that program reported its error itself.
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// report prints err (nil: nothing) the way this invocation prints
// errors and returns the exit code.
func (a *App) report(ctx context.Context, err error) int {
	if err == nil {
		return exitOK
	}
	var ec exitCodeError
	if errors.As(err, &ec) {
		return ec.code
	}
	kind, code := classify(ctx, err)
	msg := a.message(kind, err)
	if a.jsonOut {
		b, _ := json.Marshal(jsonError{Message: msg, Kind: kind, ExitCode: code})
		fmt.Fprintf(a.stderr, "%s\n", b)
	} else {
		fmt.Fprintln(a.stderr, "hoist: "+msg)
	}
	return code
}

// warn prints a warning: a line on stderr, or under --json a JSON object
// {"warning": ...} there.
func (a *App) warn(err error) {
	msg := oneLine(err)
	if m, ok := referrersLostMessage(err); ok {
		msg = m
	}
	if a.jsonOut {
		b, _ := json.Marshal(map[string]string{"warning": msg})
		fmt.Fprintf(a.stderr, "%s\n", b)
		return
	}
	fmt.Fprintln(a.stderr, "hoist: warning: "+msg)
}

// message is the one line err is reported as: for a copy into a layout
// that stopped part way, what is staged and that a rerun resumes.
func (a *App) message(kind string, err error) string {
	msg := flagHints(oneLine(err), err)
	var ie *lib.IncompleteError
	staged := errors.As(err, &ie)
	switch {
	case kind == kindInterrupted && staged:
		return fmt.Sprintf("interrupted; %s of partial blobs staged in %s (complete blobs are kept in the layout too): run the same command again to resume", content.HumanSize(ie.Staged), ie.StagingDir)
	case kind == kindInterrupted:
		return "interrupted"
	case staged && errors.Is(err, syscall.ENOSPC):
		return fmt.Sprintf("%s (the staging directory %s holds %s of partial blobs; free some space and run the same command again to resume)", msg, ie.StagingDir, content.HumanSize(ie.Staged))
	case staged && ie.Staged > 0:
		return fmt.Sprintf("%s (%s staged in %s; running the same command again resumes)", msg, content.HumanSize(ie.Staged), ie.StagingDir)
	}
	return msg
}
