package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/hoist-dev/hoist/store"
)

// Handler serves the OCI Distribution API over a store.Namespace. It
// answers every path under /v2/ and 404 elsewhere. It is safe for
// concurrent use, and several Handlers may serve the same storage.
type Handler struct {
	ns      store.Namespace
	cfg     config
	uploads chan struct{} // one token per upload request in flight; nil: no limit
}

// Option configures a Handler; pass options to New.
type Option func(*config)

type config struct {
	readOnly       bool
	autoMount      bool
	maxUploads     int
	chunkMinLength int64
	logger         *slog.Logger
}

// WithReadOnly makes every write answer 405 UNSUPPORTED.
func WithReadOnly(ro bool) Option { return func(c *config) { c.readOnly = ro } }

// WithAutoMount sets whether a mount request without from (POST
// ?mount=DIGEST) links the blob from any repository that holds it, as the
// spec allows. The default is true: it saves a client the upload of a blob
// the registry already has, at the cost of telling it that some repository
// holds that digest.
func WithAutoMount(on bool) Option { return func(c *config) { c.autoMount = on } }

// WithMaxUploads caps the upload requests (POST with a body, PATCH, PUT of
// an upload) served at once; more are answered 429 TOOMANYREQUESTS with
// Retry-After. Zero, the default, means no cap.
func WithMaxUploads(n int) Option { return func(c *config) { c.maxUploads = n } }

// WithChunkMinLength sets the OCI-Chunk-Min-Length announced when an
// upload starts: the least a chunk other than the last should hold. Zero,
// the default, announces nothing (any size is fine).
func WithChunkMinLength(n int64) Option { return func(c *config) { c.chunkMinLength = n } }

// WithLogger sets where storage failures are logged. The default discards.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// New returns a Handler serving ns.
func New(ns store.Namespace, opts ...Option) (*Handler, error) {
	if ns == nil {
		return nil, errors.New("registry handler: the namespace is nil")
	}
	cfg := config{autoMount: true, logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.maxUploads < 0 || cfg.chunkMinLength < 0 || cfg.logger == nil {
		return nil, fmt.Errorf("registry handler: maximum uploads %d and chunk minimum %d must not be negative, and the logger must be set", cfg.maxUploads, cfg.chunkMinLength)
	}
	h := &Handler{ns: ns, cfg: cfg}
	if cfg.maxUploads > 0 {
		h.uploads = make(chan struct{}, cfg.maxUploads)
	}
	return h, nil
}

// route is a parsed /v2/ path.
type route struct {
	name string // repository
	kind string // "base", "catalog", "tags", "manifest", "blob", "uploads", "upload", "referrers"
	arg  string // reference, digest or upload ID
}

// parseRoute splits a /v2/ path. Repository names may contain the words
// the API uses (a repository "a/blobs"), so the endpoint is read from the
// right.
func parseRoute(p string) (route, bool) {
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		return route{}, p == "/v2"
	}
	switch rest {
	case "":
		return route{kind: "base"}, true
	case "_catalog":
		return route{kind: "catalog"}, true
	}
	s := strings.Split(rest, "/")
	n := len(s)
	join := func(k int) string { return strings.Join(s[:k], "/") }
	switch {
	case n >= 3 && s[n-2] == "tags" && s[n-1] == "list":
		return route{name: join(n - 2), kind: "tags"}, true
	case n >= 3 && s[n-2] == "manifests":
		return route{name: join(n - 2), kind: "manifest", arg: s[n-1]}, true
	case n >= 4 && s[n-3] == "blobs" && s[n-2] == "uploads" && s[n-1] == "":
		return route{name: join(n - 3), kind: "uploads"}, true
	case n >= 3 && s[n-2] == "blobs" && s[n-1] == "uploads":
		return route{name: join(n - 2), kind: "uploads"}, true
	case n >= 4 && s[n-3] == "blobs" && s[n-2] == "uploads":
		return route{name: join(n - 3), kind: "upload", arg: s[n-1]}, true
	case n >= 3 && s[n-2] == "blobs":
		return route{name: join(n - 2), kind: "blob", arg: s[n-1]}, true
	case n >= 3 && s[n-2] == "referrers":
		return route{name: join(n - 2), kind: "referrers", arg: s[n-1]}, true
	}
	return route{}, false
}

// ServeHTTP serves one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	rt, ok := parseRoute(r.URL.Path)
	if !ok {
		WriteError(w, http.StatusNotFound, CodeNameUnknown, "no such endpoint: "+r.URL.Path)
		return
	}
	write := r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch || r.Method == http.MethodDelete
	if write && h.cfg.readOnly {
		WriteError(w, http.StatusMethodNotAllowed, CodeUnsupported, "this registry is read-only")
		return
	}
	switch rt.kind {
	case "base":
		h.base(w, r)
		return
	case "catalog":
		h.catalog(w, r)
		return
	}
	repo, err := h.ns.Repository(r.Context(), rt.name)
	if err != nil {
		h.fail(w, r, err, CodeNameUnknown)
		return
	}
	c := call{w: w, r: r, repo: repo, name: rt.name, arg: rt.arg}
	m := r.Method
	switch {
	case rt.kind == "manifest" && (m == http.MethodGet || m == http.MethodHead):
		h.getManifest(c)
	case rt.kind == "manifest" && m == http.MethodPut:
		h.putManifest(c)
	case rt.kind == "manifest" && m == http.MethodDelete:
		h.deleteManifest(c)
	case rt.kind == "blob" && (m == http.MethodGet || m == http.MethodHead):
		h.getBlob(c)
	case rt.kind == "blob" && m == http.MethodDelete:
		h.deleteBlob(c)
	case rt.kind == "uploads" && m == http.MethodPost:
		h.limitUploads(c, h.startUpload)
	case rt.kind == "upload" && m == http.MethodGet:
		h.uploadStatus(c)
	case rt.kind == "upload" && m == http.MethodPatch:
		h.limitUploads(c, h.patchUpload)
	case rt.kind == "upload" && m == http.MethodPut:
		h.limitUploads(c, h.finishUpload)
	case rt.kind == "upload" && m == http.MethodDelete:
		h.cancelUpload(c)
	case rt.kind == "tags" && (m == http.MethodGet || m == http.MethodHead):
		h.tags(c)
	case rt.kind == "referrers" && (m == http.MethodGet || m == http.MethodHead):
		h.referrers(c)
	default:
		WriteError(w, http.StatusMethodNotAllowed, CodeUnsupported, fmt.Sprintf("%s is not allowed on %s", m, r.URL.Path))
	}
}

// call is one request to a repository endpoint.
type call struct {
	w    http.ResponseWriter
	r    *http.Request
	repo store.Repository
	name string
	arg  string
}

func (c call) ctx() context.Context { return c.r.Context() }

// base answers GET /v2/: the API is here.
func (h *Handler) base(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		WriteError(w, http.StatusMethodNotAllowed, CodeUnsupported, "use GET /v2/")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", "2")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write([]byte("{}"))
	}
}

// limitUploads runs f unless WithMaxUploads requests are in flight.
func (h *Handler) limitUploads(c call, f func(call)) {
	if h.uploads == nil {
		f(c)
		return
	}
	select {
	case h.uploads <- struct{}{}:
		defer func() { <-h.uploads }()
		f(c)
	default:
		c.w.Header().Set("Retry-After", "1")
		WriteError(c.w, http.StatusTooManyRequests, CodeTooManyRequests, fmt.Sprintf("more than %d uploads at once; retry shortly", h.cfg.maxUploads))
	}
}
