package main

import (
	"fmt"
	"net/http"
	"strings"
)

// S3 request kinds, for the counting proxy in front of SeaweedFS in the
// servers case on S3 (-s3-requests): what each server asked the object
// store for, per push and per pull.
const (
	kindS3Put        requestKind = "PutObject"
	kindS3Copy       requestKind = "CopyObject"
	kindS3PartCopy   requestKind = "UploadPartCopy"
	kindS3Head       requestKind = "HeadObject"
	kindS3Get        requestKind = "GetObject"
	kindS3List       requestKind = "ListObjects"
	kindS3Delete     requestKind = "DeleteObject"
	kindS3DeleteMany requestKind = "DeleteObjects"
	kindS3MPStart    requestKind = "CreateMultipartUpload"
	kindS3MPPart     requestKind = "UploadPart"
	kindS3MPDone     requestKind = "CompleteMultipartUpload"
	kindS3MPAbort    requestKind = "AbortMultipartUpload"
	kindS3MPParts    requestKind = "ListParts"
	kindS3MPList     requestKind = "ListMultipartUploads"
	kindS3Other      requestKind = "other S3"
)

// s3Kinds is the column order of the S3 request table.
var s3Kinds = []requestKind{kindS3Head, kindS3Get, kindS3List, kindS3Put, kindS3Copy, kindS3PartCopy, kindS3Delete, kindS3DeleteMany,
	kindS3MPStart, kindS3MPPart, kindS3MPDone, kindS3MPAbort, kindS3MPParts, kindS3MPList, kindS3Other}

// classifyS3 names the S3 operation of a path-style request.
func classifyS3(r *http.Request) requestKind {
	q := r.URL.Query()
	_, uploads := q["uploads"]
	_, del := q["delete"]
	upload := q.Get("uploadId") != ""
	object := strings.Count(strings.Trim(r.URL.Path, "/"), "/") >= 1 // /bucket/key
	copySrc := r.Header.Get("X-Amz-Copy-Source") != ""
	switch r.Method {
	case http.MethodHead:
		return kindS3Head
	case http.MethodGet:
		switch {
		case upload:
			return kindS3MPParts
		case uploads:
			return kindS3MPList
		case object:
			return kindS3Get
		default:
			return kindS3List
		}
	case http.MethodPut:
		switch {
		case upload && copySrc:
			return kindS3PartCopy
		case upload:
			return kindS3MPPart
		case copySrc:
			return kindS3Copy
		default:
			return kindS3Put
		}
	case http.MethodPost:
		switch {
		case uploads:
			return kindS3MPStart
		case upload:
			return kindS3MPDone
		case del:
			return kindS3DeleteMany
		}
	case http.MethodDelete:
		if upload {
			return kindS3MPAbort
		}
		return kindS3Delete
	}
	return kindS3Other
}

// renderS3Requests writes the table of S3 requests per push and per pull
// of each server's last counted run.
func renderS3Requests(b *strings.Builder, stats []*serverStat) {
	used := map[requestKind]bool{}
	counted := false
	for _, s := range stats {
		for _, c := range []requestCounts{s.s3Push, s.s3Pull} {
			for k, v := range c {
				if v > 0 {
					used[k], counted = true, true
				}
			}
		}
	}
	if !counted {
		return
	}
	var cols []requestKind
	for _, k := range s3Kinds {
		if used[k] {
			cols = append(cols, k)
		}
	}
	b.WriteString("\nS3 requests per push and per pull (one run, all instances of a server together), counted by a proxy in front of SeaweedFS " +
		"(`-s3-requests`; the presigned GETs of a pull are the client's, the rest the servers'):\n\n")
	b.WriteString("| server | phase | requests |")
	for _, k := range cols {
		fmt.Fprintf(b, " %s |", k)
	}
	b.WriteString("\n|---|---|---:|" + strings.Repeat("---:|", len(cols)) + "\n")
	for _, s := range stats {
		for _, ph := range []struct {
			name string
			c    requestCounts
		}{{"push", s.s3Push}, {"pull", s.s3Pull}} {
			if ph.c == nil {
				continue
			}
			fmt.Fprintf(b, "| %s | %s | %d |", s.name, ph.name, ph.c.total())
			for _, k := range cols {
				fmt.Fprintf(b, " %d |", ph.c[k])
			}
			b.WriteString("\n")
		}
	}
}
