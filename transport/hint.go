package transport

import (
	"errors"

	"github.com/hoist-dev/hoist/errdef"
)

// OptionHint is an error whose fix is a library option; it is
// errdef.OptionHint, which every layer uses, so that one errors.As finds
// the hints of transport, the stores and the copy engine alike.
type OptionHint = errdef.OptionHint

// ErrNoTLS is wrapped by the error for an https request to a host that
// answered in plain http and may not be spoken to that way (it is neither
// loopback nor insecure by the host policy).
var ErrNoTLS = errors.New("the host answers plain http, not TLS")
