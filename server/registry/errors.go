package registry

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/server/storage"
)

// OCI error codes (distribution-spec, "Error Codes").
const (
	CodeBlobUnknown         = "BLOB_UNKNOWN"
	CodeBlobUploadInvalid   = "BLOB_UPLOAD_INVALID"
	CodeBlobUploadUnknown   = "BLOB_UPLOAD_UNKNOWN"
	CodeDigestInvalid       = "DIGEST_INVALID"
	CodeManifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN"
	CodeManifestInvalid     = "MANIFEST_INVALID"
	CodeManifestUnknown     = "MANIFEST_UNKNOWN"
	CodeNameInvalid         = "NAME_INVALID"
	CodeNameUnknown         = "NAME_UNKNOWN"
	CodeSizeInvalid         = "SIZE_INVALID"
	CodeUnauthorized        = "UNAUTHORIZED"
	CodeDenied              = "DENIED"
	CodeUnsupported         = "UNSUPPORTED"
	CodeTooManyRequests     = "TOOMANYREQUESTS"
	CodeTagInvalid          = "TAG_INVALID"
	CodeRangeInvalid        = "RANGE_INVALID"
)

// WriteError answers with status and an OCI error body holding one error
// of code with message. Servers that wrap a Handler (authentication,
// limits) use it so every answer has the same shape.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	body, _ := json.Marshal(map[string]any{"errors": []map[string]string{{"code": code, "message": message}}})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Docker-Distribution-API-Version", "registry/2.0")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// notFoundCode is the code for a not-found while looking for thing (one
// of the Code*Unknown values): NAME_UNKNOWN when the whole repository is
// missing.
func notFoundCode(err error, thing string) string {
	var nf *storage.NotFoundError
	if errors.As(err, &nf) && nf.NoRepository {
		return CodeNameUnknown
	}
	return thing
}

// fail answers err, an error from the store, in the context of an
// operation whose not-found code is unknownCode.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, unknownCode string) {
	switch {
	case errors.Is(err, errdef.ErrNotFound):
		WriteError(w, http.StatusNotFound, notFoundCode(err, unknownCode), err.Error())
	case errors.Is(err, errdef.ErrDigestMismatch):
		WriteError(w, http.StatusBadRequest, CodeDigestInvalid, err.Error())
	case errors.Is(err, errdef.ErrSizeMismatch):
		WriteError(w, http.StatusBadRequest, CodeSizeInvalid, err.Error())
	case errors.Is(err, errdef.ErrTooLarge):
		WriteError(w, http.StatusRequestEntityTooLarge, CodeSizeInvalid, err.Error())
	case errors.Is(err, errdef.ErrRangeInvalid):
		WriteError(w, http.StatusRequestedRangeNotSatisfiable, CodeRangeInvalid, err.Error())
	case errors.Is(err, errdef.ErrReadOnly), errors.Is(err, errdef.ErrUnsupported):
		WriteError(w, http.StatusMethodNotAllowed, CodeUnsupported, err.Error())
	case errors.Is(err, errdef.ErrInvalid):
		code := CodeManifestInvalid
		switch unknownCode {
		case CodeBlobUnknown:
			code = CodeDigestInvalid
		case CodeBlobUploadUnknown:
			code = CodeBlobUploadInvalid
		case CodeNameUnknown:
			code = CodeNameInvalid
		}
		WriteError(w, http.StatusBadRequest, code, err.Error())
	case errors.Is(err, errdef.ErrDenied):
		WriteError(w, http.StatusForbidden, CodeDenied, err.Error())
	case errors.Is(err, errdef.ErrServer):
		// A registry behind this one (a mirror's upstream) failed: say
		// which, and what it did.
		h.cfg.logger.Warn("upstream error", "method", r.Method, "path", r.URL.Path, "err", err)
		WriteError(w, http.StatusBadGateway, "UNKNOWN", err.Error())
	case r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
		h.cfg.logger.Info("request ended by the client", "method", r.Method, "path", r.URL.Path, "err", err)
		w.WriteHeader(http.StatusBadRequest)
	default:
		h.cfg.logger.Error("storage error", "method", r.Method, "path", r.URL.Path, "err", err)
		WriteError(w, http.StatusInternalServerError, "UNKNOWN", "internal storage error; the server log has the details")
	}
}
