package errcode

import "errors"

// Sentinels for errors.Is. An *Error matches them by OCI error code and by
// HTTP status (see Error.Is); other packages wrap them for failures found
// locally.
var (
	// ErrNotFound: the repository, manifest, blob or upload does not exist
	// (404; NAME_UNKNOWN, MANIFEST_UNKNOWN, BLOB_UNKNOWN, BLOB_UPLOAD_UNKNOWN).
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized: the registry wants credentials, or rejected the ones
	// sent (401; UNAUTHORIZED).
	ErrUnauthorized = errors.New("authentication required")
	// ErrDenied: the credentials were accepted but lack access (403; DENIED).
	ErrDenied = errors.New("access denied")
	// ErrRateLimited: the registry asks the client to slow down (429;
	// TOOMANYREQUESTS). Error.RetryAfter says for how long, when it was given.
	ErrRateLimited = errors.New("rate limited")
	// ErrUnsupported: the registry does not implement the operation (405,
	// 501; UNSUPPORTED), or hoist refuses it (writing a legacy manifest).
	ErrUnsupported = errors.New("unsupported")
	// ErrTooLarge: a body exceeded a size limit, the registry's (413) or a
	// cap hoist applies to untrusted input such as manifests.
	ErrTooLarge = errors.New("too large")
	// ErrDigestMismatch: content does not hash to the digest it was named by
	// (DIGEST_INVALID from the registry, or verification on the client).
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrSizeMismatch: content is not as long as its descriptor says
	// (SIZE_INVALID from the registry, or verification on the client).
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrServer: the registry or a proxy in front of it failed (5xx).
	ErrServer = errors.New("registry server error")
)
