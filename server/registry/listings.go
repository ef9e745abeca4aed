package registry

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
)

// maxPage caps a listing's page, asked for (n) or not, so one request
// cannot make the server build an unbounded answer.
const maxPage = 10000

// page reads n and last; ok is false once it has answered 400.
func page(w http.ResponseWriter, r *http.Request) (p store.Page, explicit bool, ok bool) {
	q := r.URL.Query()
	p.Last = q.Get("last")
	if ns := q.Get("n"); ns != "" {
		n, err := strconv.Atoi(ns)
		if err != nil || n < 0 {
			WriteError(w, http.StatusBadRequest, CodeUnsupported, fmt.Sprintf("n=%q: use a count of 0 or more", ns))
			return p, false, false
		}
		p.N, explicit = min(n, maxPage), true
	} else {
		// Without n, still at most maxPage names, with a Link to the rest,
		// as the spec allows: one request never builds an unbounded answer.
		p.N = maxPage
	}
	return p, explicit, true
}

// writeListing answers a listing: the page p of all (asked for with one more than
// shown, to know whether a Link is due), as {key: items} plus extra.
func writeListing(w http.ResponseWriter, r *http.Request, p store.Page, explicit bool, items []string, key string, extra map[string]any) {
	if explicit && p.N == 0 {
		items = items[:0]
	}
	if p.N > 0 && len(items) > p.N {
		items = items[:p.N]
		q := url.Values{}
		q.Set("n", strconv.Itoa(p.N))
		q.Set("last", items[len(items)-1])
		w.Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, r.URL.Path, q.Encode()))
	}
	body := map[string]any{key: items}
	for k, v := range extra {
		body[k] = v
	}
	writeJSON(w, r, "application/json", body)
}

func writeJSON(w http.ResponseWriter, r *http.Request, mediaType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, "UNKNOWN", err.Error())
		return
	}
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

// tags answers GET .../tags/list.
func (h *Handler) tags(c call) {
	p, explicit, ok := page(c.w, c.r)
	if !ok {
		return
	}
	ask := p
	if ask.N > 0 {
		ask.N++
	}
	tags, err := c.repo.Tags(c.ctx(), ask)
	if err != nil {
		h.fail(c.w, c.r, err, CodeNameUnknown)
		return
	}
	writeListing(c.w, c.r, p, explicit, tags, "tags", map[string]any{"name": c.name})
}

// catalog answers GET /v2/_catalog.
func (h *Handler) catalog(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		WriteError(w, http.StatusMethodNotAllowed, CodeUnsupported, "use GET /v2/_catalog")
		return
	}
	p, explicit, ok := page(w, r)
	if !ok {
		return
	}
	ask := p
	if ask.N > 0 {
		ask.N++
	}
	names, err := h.ns.Repositories(r.Context(), ask)
	if err != nil {
		h.fail(w, r, err, CodeNameUnknown)
		return
	}
	if names == nil {
		names = []string{}
	}
	writeListing(w, r, p, explicit, names, "repositories", nil)
}

// referrers answers GET .../referrers/DIGEST[?artifactType=T]: an index of
// the manifests whose subject is DIGEST.
func (h *Handler) referrers(c call) {
	d, ok := parseDigest(c.w, c.arg)
	if !ok {
		return
	}
	at := c.r.URL.Query().Get("artifactType")
	list, err := c.repo.Referrers(c.ctx(), d, strings.TrimSpace(at))
	if err != nil {
		h.fail(c.w, c.r, err, CodeManifestUnknown)
		return
	}
	if list == nil {
		list = []ocispec.Descriptor{}
	}
	if at != "" {
		c.w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	writeJSON(c.w, c.r, content.MediaTypeOCIIndex, map[string]any{
		"schemaVersion": 2,
		"mediaType":     content.MediaTypeOCIIndex,
		"manifests":     list,
	})
}
