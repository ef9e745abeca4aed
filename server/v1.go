package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"

	driver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

// redirectedPrefix is where WithV1AnnounceRedirect sends announcements.
const redirectedPrefix = "_redirected/repositories/"

// V1 is a Docker Registry v1 server, index and registry in one, that keeps
// its state through a storage driver (a directory with NewV1). It serves every path under /v1/ and answers 404
// elsewhere, so mount it at the root of a server or behind a mux pattern
// "/v1/".
//
// What it serves:
//
//	GET  _ping                          version and standalone flag
//	POST users/                         register an account (inactive until Activate)
//	GET  users/                         log in with Basic auth
//	GET  search?q=TERM&n=N&page=P       search repository names
//	GET  repositories/NAME/images       image list; with X-Docker-Token: true, a read token
//	PUT  repositories/NAME/             announce a push; a write token and X-Docker-Endpoints
//	PUT  repositories/NAME/images       close a push with the image checksums (204)
//	GET  repositories/NAME/tags         all tags
//	GET  repositories/NAME/tags/TAG     one tag, as a JSON string
//	PUT  repositories/NAME/tags/TAG     set a tag to a complete image
//	GET  images/ID/json                 image JSON, with X-Docker-Size
//	PUT  images/ID/json                 start an image; 409 if it already exists
//	GET  images/ID/layer                the layer, with Range support (also HEAD)
//	PUT  images/ID/layer                upload the layer (streamed to disk)
//	PUT  images/ID/checksum             verify X-Docker-Checksum and
//	                                    X-Docker-Checksum-Payload; the image is complete
//	GET  images/ID/ancestry             the image and its parents, newest first
//
// A V1 is safe for concurrent use. Several V1 values must not share a root.
type V1 struct {
	cfg    v1Config
	store  *v1Store
	users  *v1Users
	tokens *v1Tokens

	// mu serialises changes to image states, repository image lists and
	// tags, which are read-modify-write. Streaming a layer does not hold it.
	mu sync.Mutex
}

// NewV1 returns a V1 server that keeps its state under root (through
// distribution's filesystem storage driver), picking up the images,
// repositories and registered accounts a previous server left there. It
// returns an error if an option is invalid or root cannot be read.
func NewV1(root string, opts ...V1Option) (*V1, error) {
	if root == "" {
		return nil, errors.New("v1 server: root directory must not be empty")
	}
	return NewV1OnDriver(filesystem.New(filesystem.DriverParameters{RootDirectory: root, MaxThreads: 100}), opts...)
}

// NewV1OnDriver returns a V1 server that keeps its state through the
// storage driver d, under /hoist/v1: the same driver hoist serve's v2
// storage uses, so that both protocols share one store (see WithV1Tags).
func NewV1OnDriver(d driver.StorageDriver, opts ...V1Option) (*V1, error) {
	cfg := defaultV1Config()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	st, err := openV1Store(d)
	if err != nil {
		return nil, err
	}
	users, err := newV1Users(context.Background(), st, cfg.accounts, cfg.bcryptCost)
	if err != nil {
		return nil, err
	}
	return &V1{cfg: cfg, store: st, users: users, tokens: newV1Tokens()}, nil
}

// Activate activates the account username, as the confirmation mail of the
// original index did, so that it can log in and push. The change is stored
// for an account registered through POST users/; for one given with
// WithV1Account it lasts as long as the server. It returns an error if there
// is no such account or the change cannot be stored.
func (s *V1) Activate(username string) error {
	return s.users.activate(context.Background(), username)
}

// ServeHTTP serves one v1 request.
func (s *V1) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Docker-Registry-Version", s.cfg.version)
	h.Set("X-Docker-Registry-Standalone", strconv.FormatBool(s.cfg.standalone))
	s.cfg.logger.Debug("v1 request", "method", r.Method, "path", r.URL.Path)

	p, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	switch {
	case !ok:
		writeError(w, http.StatusNotFound, "not found: the v1 API lives under /v1/")
	case p == "_ping":
		s.ping(w, r)
	case p == "users" || p == "users/":
		s.serveUsers(w, r)
	case p == "search":
		s.search(w, r)
	case strings.HasPrefix(p, "images/"):
		s.routeImage(w, r, strings.TrimPrefix(p, "images/"))
	case strings.HasPrefix(p, "repositories/"):
		s.routeRepository(w, r, strings.TrimPrefix(p, "repositories/"), false)
	case s.cfg.announceRedirect != 0 && strings.HasPrefix(p, redirectedPrefix):
		s.routeRepository(w, r, strings.TrimPrefix(p, redirectedPrefix), true)
	default:
		writeError(w, http.StatusNotFound, "not found: no v1 endpoint "+r.URL.Path)
	}
}

// ping answers _ping.
func (s *V1) ping(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, http.MethodGet, http.MethodHead)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Version    string `json:"version"`
		Standalone bool   `json:"standalone"`
	}{s.cfg.version, s.cfg.standalone})
}

// routeImage dispatches images/ID/OP.
func (s *V1) routeImage(w http.ResponseWriter, r *http.Request, rest string) {
	id, op, _ := strings.Cut(rest, "/")
	if err := validImageID(id); err != nil {
		writeError(w, http.StatusNotFound, "image not found: "+err.Error())
		return
	}
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	put := r.Method == http.MethodPut
	switch {
	case op == "json" && get:
		s.getImageJSON(w, r, id)
	case op == "json" && put:
		s.putImageJSON(w, r, id)
	case op == "layer" && get:
		s.getLayer(w, r, id)
	case op == "layer" && put:
		s.putLayer(w, r, id)
	case op == "checksum" && put:
		s.putChecksum(w, r, id)
	case op == "ancestry" && get:
		s.getAncestry(w, r, id)
	case op == "json" || op == "layer":
		methodNotAllowed(w, http.MethodGet, http.MethodHead, http.MethodPut)
	case op == "checksum":
		methodNotAllowed(w, http.MethodPut)
	case op == "ancestry":
		methodNotAllowed(w, http.MethodGet, http.MethodHead)
	default:
		writeError(w, http.StatusNotFound, "not found: no v1 endpoint "+r.URL.Path)
	}
}

// routeRepository dispatches repositories/NAME/..., where NAME is REPO or
// NAMESPACE/REPO. A two-part name is preferred where both readings fit.
// redirected is true on the path WithV1AnnounceRedirect sends clients to,
// which serves only the announcement.
func (s *V1) routeRepository(w http.ResponseWriter, r *http.Request, rest string, redirected bool) {
	segs := strings.Split(rest, "/")
	n := len(segs)
	last := segs[n-1]

	var (
		nameSegs []string
		op, tag  string
	)
	switch {
	case last == "" && n >= 2 && n <= 3:
		nameSegs, op = segs[:n-1], "announce"
	case (last == "images" || last == "tags") && n >= 2 && n <= 3:
		nameSegs, op = segs[:n-1], last
	case n >= 3 && n <= 4 && segs[n-2] == "tags":
		nameSegs, op, tag = segs[:n-2], "tag", last
	default:
		writeError(w, http.StatusNotFound, "not found: no v1 endpoint "+r.URL.Path)
		return
	}
	if redirected && op != "announce" {
		writeError(w, http.StatusNotFound, "not found: no v1 endpoint "+r.URL.Path)
		return
	}
	name, err := parseV1Name(nameSegs)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}

	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	put := r.Method == http.MethodPut
	switch {
	case op == "announce" && put:
		s.announce(w, r, name, redirected)
	case op == "images" && get:
		s.getRepoImages(w, r, name)
	case op == "images" && put:
		s.closePush(w, r, name)
	case op == "tags" && get:
		s.getTags(w, r, name)
	case op == "tag" && get:
		s.getTag(w, r, name, tag)
	case op == "tag" && put:
		s.putTag(w, r, name, tag)
	case op == "announce":
		methodNotAllowed(w, http.MethodPut)
	case op == "tags":
		methodNotAllowed(w, http.MethodGet, http.MethodHead)
	default:
		methodNotAllowed(w, http.MethodGet, http.MethodHead, http.MethodPut)
	}
}

// setEndpoints announces the registry hosts in X-Docker-Endpoints.
func (s *V1) setEndpoints(w http.ResponseWriter, r *http.Request) {
	hosts := s.cfg.endpoints
	if len(hosts) == 0 {
		hosts = []string{r.Host}
	}
	w.Header().Set("X-Docker-Endpoints", strings.Join(hosts, ", "))
}
