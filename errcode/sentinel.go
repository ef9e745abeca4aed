package errcode

import "github.com/hoist-dev/hoist/errdef"

// Sentinels for errors.Is: the values of package errdef, named here too so
// callers of this package need not import both. An *Error matches them by
// OCI error code and by HTTP status (see Error.Is).
var (
	// ErrNotFound: the repository, manifest, blob or upload does not exist
	// (404; NAME_UNKNOWN, MANIFEST_UNKNOWN, BLOB_UNKNOWN, BLOB_UPLOAD_UNKNOWN).
	ErrNotFound = errdef.ErrNotFound
	// ErrUnauthorized: the registry wants credentials, or rejected the ones
	// sent (401; UNAUTHORIZED).
	ErrUnauthorized = errdef.ErrUnauthorized
	// ErrDenied: the credentials were accepted but lack access (403; DENIED).
	ErrDenied = errdef.ErrDenied
	// ErrRateLimited: the registry asks the client to slow down (429;
	// TOOMANYREQUESTS). Error.RetryAfter says for how long, when it was given.
	ErrRateLimited = errdef.ErrRateLimited
	// ErrUnsupported: the registry does not implement the operation (405,
	// 501; UNSUPPORTED), or hoist refuses it (writing a legacy manifest).
	ErrUnsupported = errdef.ErrUnsupported
	// ErrTooLarge: a body exceeded a size limit, the registry's (413) or a
	// cap hoist applies to untrusted input such as manifests.
	ErrTooLarge = errdef.ErrTooLarge
	// ErrDigestMismatch: content does not hash to the digest it was named by
	// (DIGEST_INVALID from the registry, or verification on the client).
	ErrDigestMismatch = errdef.ErrDigestMismatch
	// ErrSizeMismatch: content is not as long as its descriptor says
	// (SIZE_INVALID from the registry, or verification on the client).
	ErrSizeMismatch = errdef.ErrSizeMismatch
	// ErrServer: the registry or a proxy in front of it failed (5xx).
	ErrServer = errdef.ErrServer
)
