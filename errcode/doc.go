// Package errcode turns a registry's unsuccessful answer into one error
// type, *Error, that keeps everything the registry said: the status, the
// method and URL of the request (with secrets in the query redacted), the
// OCI error entries parsed from a JSON body, a readable excerpt of any other
// body (an nginx or load-balancer HTML page, a plain-text proxy error), and
// the Retry-After the registry asked for.
//
// Callers match errors with errors.Is against the sentinels (ErrNotFound,
// ErrUnauthorized, ErrDenied, ErrRateLimited, ErrUnsupported, ErrTooLarge,
// ErrDigestMismatch, ErrSizeMismatch, ErrServer). An *Error matches a
// sentinel by its OCI error codes and by its HTTP status, so a bare 404 from
// a proxy and a MANIFEST_UNKNOWN from a registry are both ErrNotFound.
// Packages that verify content locally (content, distribution) wrap the same
// ErrDigestMismatch and ErrSizeMismatch, so one check covers a registry that
// refused a digest and a blob that failed verification on the way in.
//
// Error strings are one line that names the request and, when there is one,
// the fix (for a 401: log in with `hoist login HOST`).
package errcode
