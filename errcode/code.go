package errcode

import (
	"encoding/json"
	"net/http"
)

// Code is an OCI error code, e.g. "MANIFEST_UNKNOWN". Registries may send
// codes that are not listed here; they are kept verbatim and, as the
// distribution spec asks, treated like UNKNOWN.
type Code string

// The error codes of the OCI distribution spec, plus TOOMANYREQUESTS, which
// Docker Hub and distribution send with 429.
const (
	CodeBlobUnknown         Code = "BLOB_UNKNOWN"
	CodeBlobUploadInvalid   Code = "BLOB_UPLOAD_INVALID"
	CodeBlobUploadUnknown   Code = "BLOB_UPLOAD_UNKNOWN"
	CodeDigestInvalid       Code = "DIGEST_INVALID"
	CodeManifestBlobUnknown Code = "MANIFEST_BLOB_UNKNOWN"
	CodeManifestInvalid     Code = "MANIFEST_INVALID"
	CodeManifestUnknown     Code = "MANIFEST_UNKNOWN"
	CodeNameInvalid         Code = "NAME_INVALID"
	CodeNameUnknown         Code = "NAME_UNKNOWN"
	CodeSizeInvalid         Code = "SIZE_INVALID"
	CodeUnauthorized        Code = "UNAUTHORIZED"
	CodeDenied              Code = "DENIED"
	CodeUnsupported         Code = "UNSUPPORTED"
	CodeTooManyRequests     Code = "TOOMANYREQUESTS"
	CodeUnknown             Code = "UNKNOWN"
)

// Entry is one element of the "errors" array of a registry's JSON error body.
type Entry struct {
	// Code is the error code, upper case as sent.
	Code Code `json:"code"`
	// Message is the registry's human-readable text; it may be empty.
	Message string `json:"message,omitempty"`
	// Detail is unstructured JSON the registry attached, kept as sent.
	Detail json.RawMessage `json:"detail,omitempty"`
}

// codeSentinels maps codes to the sentinel they satisfy. Besides the spec's
// codes it knows the spellings Harbor and Quay use for the same conditions.
var codeSentinels = map[Code]error{
	CodeBlobUnknown:       ErrNotFound,
	CodeBlobUploadUnknown: ErrNotFound,
	CodeManifestUnknown:   ErrNotFound,
	CodeNameUnknown:       ErrNotFound,
	"NOT_FOUND":           ErrNotFound,
	CodeUnauthorized:      ErrUnauthorized,
	CodeDenied:            ErrDenied,
	"FORBIDDEN":           ErrDenied,
	CodeTooManyRequests:   ErrRateLimited,
	"TOO_MANY_REQUESTS":   ErrRateLimited,
	CodeUnsupported:       ErrUnsupported,
	CodeDigestInvalid:     ErrDigestMismatch,
	CodeSizeInvalid:       ErrSizeMismatch,
}

// statusSentinel maps an HTTP status to the sentinel it satisfies, or nil.
func statusSentinel(status int) error {
	switch {
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusForbidden:
		return ErrDenied
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status == http.StatusMethodNotAllowed, status == http.StatusNotImplemented:
		return ErrUnsupported
	case status == http.StatusRequestEntityTooLarge:
		return ErrTooLarge
	case status >= 500 && status <= 599:
		return ErrServer
	}
	return nil
}
