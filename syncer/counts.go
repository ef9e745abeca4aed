package syncer

import (
	"net/http"
	"sort"
	"strings"
	"sync"
)

// Request kinds, as Result.Requests counts them.
const (
	KindPing         = "ping"
	KindCatalog      = "catalog"
	KindTags         = "tags"
	KindManifestHEAD = "manifest HEAD"
	KindManifestGET  = "manifest GET"
	KindManifestPUT  = "manifest PUT"
	KindManifestDEL  = "manifest DELETE"
	KindReferrers    = "referrers"
	KindBlobHEAD     = "blob HEAD"
	KindBlobGET      = "blob GET"
	KindUpload       = "upload"
	KindOther        = "other"
)

// requestKind names what a registry request does, by method and path.
func requestKind(req *http.Request) string {
	p, m := req.URL.Path, req.Method
	switch {
	case p == "/v2/" || p == "/v2":
		return KindPing
	case strings.HasSuffix(p, "/_catalog"):
		return KindCatalog
	case strings.HasSuffix(p, "/tags/list"):
		return KindTags
	case strings.Contains(p, "/referrers/"):
		return KindReferrers
	case strings.Contains(p, "/manifests/"):
		switch m {
		case http.MethodHead:
			return KindManifestHEAD
		case http.MethodGet:
			return KindManifestGET
		case http.MethodPut:
			return KindManifestPUT
		case http.MethodDelete:
			return KindManifestDEL
		}
	case strings.Contains(p, "/blobs/uploads"):
		return KindUpload
	case strings.Contains(p, "/blobs/"):
		switch m {
		case http.MethodHead:
			return KindBlobHEAD
		case http.MethodGet:
			return KindBlobGET
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			return KindUpload
		}
	}
	return KindOther
}

// counter counts requests by host and kind. It is safe for concurrent
// use.
type counter struct {
	mu sync.Mutex
	n  map[string]map[string]int
}

func (c *counter) add(host, kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]map[string]int{}
	}
	if c.n[host] == nil {
		c.n[host] = map[string]int{}
	}
	c.n[host][kind]++
}

// snapshot returns the counts, host by host.
func (c *counter) snapshot() []HostRequests {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]HostRequests, 0, len(c.n))
	for h, kinds := range c.n {
		hr := HostRequests{Host: h, Kinds: map[string]int{}}
		for k, n := range kinds {
			hr.Kinds[k] = n
			hr.Total += n
		}
		out = append(out, hr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out
}

// HostRequests counts the requests one run sent to one registry host
// (retries by the transport below not counted again; token requests to
// an auth server not at all).
type HostRequests struct {
	Host  string         `json:"host"`
	Total int            `json:"total"`
	Kinds map[string]int `json:"kinds"`
}
