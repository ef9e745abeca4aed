package copy

import (
	"context"
	"errors"
	"time"

	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/transport"
)

// maxRetryWait is the longest Retry-After a blob's second try waits out.
const maxRetryWait = time.Minute

// worthAnotherTry reports whether a failed blob transfer is worth one more
// try from the start, and waits out the registry's Retry-After first. The
// protocol clients already retry and resume what they can; what reaches
// here is a transfer whose bytes failed their size or digest check, or
// whose upload could not go on from a source that cannot be rewound (a
// lost answer, a 429 or 5xx, a redirect that could not be followed with
// the body). A missing blob, refused credentials, an unsupported request
// or the end of ctx is final.
func worthAnotherTry(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var we *transport.WaitBudgetError
	if errors.As(err, &we) || errors.Is(err, transport.ErrRepeatedTimeouts) {
		// The operation's wait budget is spent already, or the host
		// timed out as often as the transport lets it in a row.
		return false
	}
	var ee *errcode.Error
	if errors.As(err, &ee) && ee.HasCode(errcode.CodeBlobUploadUnknown) {
		return true // the session was lost, not the blob: a new one may do
	}
	for _, final := range []error{errcode.ErrNotFound, errcode.ErrUnauthorized, errcode.ErrDenied, errcode.ErrUnsupported, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, final) {
			return false
		}
	}
	if errors.As(err, &ee) && ee.RetryAfter > 0 {
		if ee.RetryAfter > maxRetryWait {
			return false
		}
		if b := transport.BudgetFrom(ctx); b != nil {
			return b.Sleep(ctx, nil, ee.RetryAfter, ee.URL, err) == nil
		}
		if transport.Sleep(ctx, ee.RetryAfter) != nil {
			return false
		}
	}
	return true
}
