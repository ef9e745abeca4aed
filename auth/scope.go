package auth

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// scope is one resource scope of the distribution token spec,
// "TYPE:NAME:ACTION[,ACTION...]", with its actions sorted and unique.
type scope struct {
	typ, name string
	actions   []string
}

// parseScope parses "repository:foo/bar:pull,push". The name may itself
// contain colons (a registry host with a port), so the type is up to the
// first colon and the actions after the last.
func parseScope(s string) (scope, bool) {
	typ, rest, ok := strings.Cut(s, ":")
	if !ok {
		return scope{}, false
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 || typ == "" || rest[:i] == "" {
		return scope{}, false
	}
	sc := scope{typ: typ, name: rest[:i]}
	for _, a := range strings.Split(rest[i+1:], ",") {
		if a = strings.TrimSpace(a); a != "" {
			sc.actions = append(sc.actions, a)
		}
	}
	sort.Strings(sc.actions)
	sc.actions = slices.Compact(sc.actions)
	return sc, len(sc.actions) > 0
}

func (s scope) String() string {
	return s.typ + ":" + s.name + ":" + strings.Join(s.actions, ",")
}

// scopeSet is a set of scopes keyed by type and name, with the actions of
// one resource merged.
type scopeSet map[[2]string][]string

// add merges the scopes written as strings (each may also be a
// space-separated list, as in a challenge's scope parameter).
func (ss scopeSet) add(list ...string) {
	for _, item := range list {
		for _, f := range strings.Fields(item) {
			if sc, ok := parseScope(f); ok {
				k := [2]string{sc.typ, sc.name}
				acts := append(ss[k], sc.actions...)
				sort.Strings(acts)
				ss[k] = slices.Compact(acts)
			}
		}
	}
}

// strings returns the scopes in a canonical order, one string each.
func (ss scopeSet) strings() []string {
	out := make([]string, 0, len(ss))
	for k, acts := range ss {
		out = append(out, scope{typ: k[0], name: k[1], actions: acts}.String())
	}
	sort.Strings(out)
	return out
}

// key identifies the set, for the token cache.
func (ss scopeSet) key() string { return strings.Join(ss.strings(), " ") }

// covers reports whether every action of want is granted by ss (an action
// "*" grants all).
func (ss scopeSet) covers(want scopeSet) bool {
	for k, acts := range want {
		have := ss[k]
		if slices.Contains(have, "*") {
			continue
		}
		for _, a := range acts {
			if !slices.Contains(have, a) {
				return false
			}
		}
	}
	return true
}

func (ss scopeSet) clone() scopeSet {
	out := make(scopeSet, len(ss))
	for k, v := range ss {
		out[k] = slices.Clone(v)
	}
	return out
}

// repoPath matches a v2 repository path; the greedy name takes the longest
// prefix, so a repository whose name contains "blobs" still parses.
var repoPath = regexp.MustCompile(`^/v2/(.+)/(?:manifests|blobs|tags|referrers)/`)

// requestScopes derives the scopes a request needs from its method and
// path, adds a cross-repository mount's source, and the scopes the caller
// put in the context with ContextWithScopes.
func requestScopes(req *http.Request) scopeSet {
	ss := scopeSet{}
	path := req.URL.Path
	switch {
	case path == "/v2/_catalog":
		ss.add("registry:catalog:*")
	default:
		m := repoPath.FindStringSubmatch(path)
		if m == nil {
			break
		}
		name := m[1]
		switch req.Method {
		case http.MethodGet, http.MethodHead:
			ss.add("repository:" + name + ":pull")
		case http.MethodDelete:
			ss.add("repository:" + name + ":delete,pull")
		default: // POST, PUT, PATCH
			ss.add("repository:" + name + ":pull,push")
			q := req.URL.Query()
			if from := q.Get("from"); from != "" && q.Get("mount") != "" {
				ss.add("repository:" + from + ":pull")
			}
		}
	}
	if extra, ok := req.Context().Value(scopesKey{}).([]string); ok {
		ss.add(extra...)
	}
	return ss
}

type scopesKey struct{}

// ContextWithScopes returns a context whose requests also ask for the given
// token scopes ("repository:NAME:pull", "registry:catalog:*", ...), for
// requests whose path does not say what they need. Scopes already in ctx
// are kept.
func ContextWithScopes(ctx context.Context, scopes ...string) context.Context {
	prev, _ := ctx.Value(scopesKey{}).([]string)
	return context.WithValue(ctx, scopesKey{}, append(slices.Clone(prev), scopes...))
}
