package server

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Page sizes of search answers.
const (
	defaultSearchPageSize = 25
	maxSearchPageSize     = 100
)

// v1SearchResult is one repository in a search answer.
type v1SearchResult struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	StarCount   int    `json:"star_count"`
	IsOfficial  bool   `json:"is_official"`
	IsTrusted   bool   `json:"is_trusted"`
	IsAutomated bool   `json:"is_automated"`
}

// v1SearchAnswer is the body of a search answer, shaped like Docker Hub's.
type v1SearchAnswer struct {
	Query      string           `json:"query"`
	NumResults int              `json:"num_results"`
	NumPages   int              `json:"num_pages"`
	Page       int              `json:"page"`
	PageSize   int              `json:"page_size"`
	Results    []v1SearchResult `json:"results"`
}

// search answers GET search?q=TERM&n=SIZE&page=P: the repositories whose
// name contains TERM (case-insensitively; all of them for an empty TERM),
// sorted by name, one page at a time. num_results counts all matches.
// Repositories in the library namespace are official and named without it.
func (s *V1) search(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, http.MethodGet, http.MethodHead)
		return
	}
	if _, ok := s.authIndex(w, r, false); !ok {
		return
	}
	q := r.URL.Query()
	size, err1 := queryInt(q.Get("n"), defaultSearchPageSize)
	page, err2 := queryInt(q.Get("page"), 1)
	if err1 != nil || err2 != nil || size < 1 || page < 1 {
		writeError(w, http.StatusBadRequest, "n and page must be positive integers")
		return
	}
	size = min(size, maxSearchPageSize)

	names, err := s.store.listRepos(r.Context())
	if err == nil && s.cfg.tags != nil {
		names, err = s.withV2Names(r.Context(), names)
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	term := strings.ToLower(q.Get("q"))
	var matches []v1SearchResult
	for _, n := range names {
		full := n.String()
		if !strings.Contains(full, term) {
			continue
		}
		res := v1SearchResult{Name: full}
		if n.namespace == "library" {
			res.Name, res.IsOfficial = n.repo, true
		}
		matches = append(matches, res)
	}

	ans := v1SearchAnswer{
		Query:      q.Get("q"),
		NumResults: len(matches),
		NumPages:   (len(matches) + size - 1) / size,
		Page:       page,
		PageSize:   size,
		Results:    []v1SearchResult{},
	}
	if start := (page - 1) * size; start < len(matches) {
		ans.Results = matches[start:min(start+size, len(matches))]
	}
	writeJSON(w, http.StatusOK, ans)
}

// queryInt parses a query parameter, def when absent.
func queryInt(v string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	return strconv.Atoi(v)
}

// withV2Names adds to names the repositories of the v2 side (WithV1Tags)
// that a v1 name can express (one or two components), sorted, each once.
func (s *V1) withV2Names(ctx context.Context, names []v1Name) ([]v1Name, error) {
	more, err := s.cfg.tags.Names(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range more {
		if n, err := parseV1Name(splitName(m)); err == nil && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.SortFunc(names, func(a, b v1Name) int { return strings.Compare(a.String(), b.String()) })
	return names, nil
}
