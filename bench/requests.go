package main

import (
	"fmt"
	"net/http"
	"strings"
)

// requestKind is what a request asked a registry for.
type requestKind string

const (
	kindConnection   requestKind = "connections" // TCP connections opened, not a request
	kindNotHTTP      requestKind = "not HTTP"    // a connection that opened with something else, e.g. a TLS ClientHello
	kindPing         requestKind = "/v2/"
	kindToken        requestKind = "token"
	kindTags         requestKind = "tags"
	kindManifestHead requestKind = "manifest HEAD"
	kindManifestGet  requestKind = "manifest GET"
	kindManifestPut  requestKind = "manifest PUT"
	kindBlobHead     requestKind = "blob HEAD"
	kindBlobGet      requestKind = "blob GET"
	kindBlobGetRange requestKind = "blob GET Range"
	kindUploadPost   requestKind = "upload POST"
	kindUploadPatch  requestKind = "upload PATCH"
	kindUploadPut    requestKind = "upload PUT"
	kindUploadOther  requestKind = "upload other"
	kindOther        requestKind = "other"
)

// requestKinds is the column order of the request tables.
var requestKinds = []requestKind{kindNotHTTP, kindPing, kindToken, kindTags, kindManifestHead, kindManifestGet, kindManifestPut,
	kindBlobHead, kindBlobGet, kindBlobGetRange, kindUploadPost, kindUploadPatch, kindUploadPut, kindUploadOther, kindOther}

// requestCounts counts requests (and connections) by kind.
type requestCounts map[requestKind]int

// total is the number of requests, connections not included (a
// connection that was not HTTP counts as one request: it cost a round
// trip).
func (c requestCounts) total() int {
	n := 0
	for k, v := range c {
		if k != kindConnection {
			n += v
		}
	}
	return n
}

// classify names the endpoint a request went to.
func classify(r *http.Request) requestKind {
	path := r.URL.Path
	m := r.Method
	switch {
	case path == "/v2/" || path == "/v2":
		return kindPing
	case strings.Contains(path, "/token") || strings.Contains(path, "/oauth"):
		return kindToken
	case strings.HasSuffix(path, "/tags/list"):
		return kindTags
	case strings.Contains(path, "/manifests/"):
		switch m {
		case http.MethodHead:
			return kindManifestHead
		case http.MethodGet:
			return kindManifestGet
		case http.MethodPut:
			return kindManifestPut
		}
	case strings.Contains(path, "/blobs/uploads"):
		switch m {
		case http.MethodPost:
			return kindUploadPost
		case http.MethodPatch:
			return kindUploadPatch
		case http.MethodPut:
			return kindUploadPut
		}
		return kindUploadOther
	case strings.Contains(path, "/blobs/"):
		switch {
		case m == http.MethodHead:
			return kindBlobHead
		case m == http.MethodGet && r.Header.Get("Range") != "":
			return kindBlobGetRange
		case m == http.MethodGet:
			return kindBlobGet
		}
	}
	return kindOther
}

// runCounts are the requests one run sent, by registry side ("source",
// "target"; "registry" when both are one).
type runCounts map[string]requestCounts

// renderRequests writes the request table of one case: one row per tool
// and registry side, from the tool's first successful run (every run of a
// tool sends the same requests, up to retries).
func renderRequests(b *strings.Builder, r caseResult) {
	type row struct {
		tool, side string
		c          requestCounts
	}
	var rows []row
	used := map[requestKind]bool{}
	for _, name := range r.order {
		var rc runCounts
		for _, s := range r.samples[name] {
			if s.err == nil && s.requests != nil {
				rc = s.requests
				break
			}
		}
		for _, side := range []string{"source", "target", "registry"} {
			c, ok := rc[side]
			if !ok || (c.total() == 0 && c[kindConnection] == 0) {
				continue
			}
			rows = append(rows, row{name, side, c})
			for k, v := range c {
				if v > 0 {
					used[k] = true
				}
			}
		}
	}
	if len(rows) == 0 {
		return
	}
	var cols []requestKind
	for _, k := range requestKinds {
		if used[k] {
			cols = append(cols, k)
		}
	}
	b.WriteString("\nRequests per run, counted by the logging proxy in front of each registry (connections: TCP connections the tool opened; not HTTP: connections that opened with something else, such as a TLS ClientHello probing a plain-http port):\n\n")
	b.WriteString("| tool | registry | requests | connections |")
	for _, k := range cols {
		fmt.Fprintf(b, " %s |", k)
	}
	b.WriteString("\n|---|---|---:|---:|" + strings.Repeat("---:|", len(cols)) + "\n")
	for _, rw := range rows {
		fmt.Fprintf(b, "| %s | %s | %d | %d |", rw.tool, rw.side, rw.c.total(), rw.c[kindConnection])
		for _, k := range cols {
			fmt.Fprintf(b, " %d |", rw.c[k])
		}
		b.WriteString("\n")
	}
}
