// Package errdef holds the error sentinels every layer of hoist shares, so
// that a not-found is the same value whether a registry, an OCI layout, a
// docker archive or hoist's own registry storage said it. It imports
// nothing of hoist's and is the bottom of the layer order.
//
// Match with errors.Is. Errors that carry more (a registry's answer,
// package errcode; a verification failure, content.MismatchError) match
// these sentinels through their Is methods or by wrapping them.
//
// OptionHint, the error whose fix is a library option, lives here too, so
// that every layer can name an option without importing the one that
// defines it.
package errdef

import "errors"

var (
	// ErrNotFound: the repository, tag, manifest, blob or upload does not
	// exist (404; NAME_UNKNOWN, MANIFEST_UNKNOWN, BLOB_UNKNOWN,
	// BLOB_UPLOAD_UNKNOWN).
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized: credentials are needed, or the ones sent were
	// rejected (401; UNAUTHORIZED).
	ErrUnauthorized = errors.New("authentication required")
	// ErrDenied: the credentials were accepted but lack access (403; DENIED).
	ErrDenied = errors.New("access denied")
	// ErrRateLimited: the registry asks the client to slow down (429;
	// TOOMANYREQUESTS).
	ErrRateLimited = errors.New("rate limited")
	// ErrUnsupported: the store or registry does not implement the
	// operation (405, 501; UNSUPPORTED), or hoist refuses it.
	ErrUnsupported = errors.New("unsupported")
	// ErrTooLarge: a body exceeded a size limit, a registry's (413) or a
	// cap hoist applies to untrusted input.
	ErrTooLarge = errors.New("too large")
	// ErrDigestMismatch: content does not hash to the digest it was named
	// by (DIGEST_INVALID).
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrSizeMismatch: content is not as long as its descriptor says
	// (SIZE_INVALID).
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrServer: a registry or a proxy in front of it failed (5xx).
	ErrServer = errors.New("registry server error")
	// ErrInvalid: a request or a document is malformed: a bad digest, a
	// manifest that does not parse, a tag outside the grammar
	// (MANIFEST_INVALID, NAME_INVALID, TAG_INVALID, DIGEST_INVALID with a
	// malformed digest).
	ErrInvalid = errors.New("invalid")
	// ErrReadOnly: the store refuses writes (a read-only registry, a
	// pull-through mirror).
	ErrReadOnly = errors.New("read-only")
	// ErrRangeInvalid: an upload chunk does not start where the upload
	// stands (416 REQUESTED_RANGE_NOT_SATISFIABLE).
	ErrRangeInvalid = errors.New("range not satisfiable")
)
