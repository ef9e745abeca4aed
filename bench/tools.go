package main

import (
	"context"
	"path"
	"strconv"
)

// caseName names a benchmark case.
type caseName string

const (
	casePull    caseName = "pull"
	casePush    caseName = "push"
	caseMount   caseName = "copy-mount"
	caseCopy    caseName = "copy"
	caseAllTags caseName = "copy-all-tags"
	caseIndex   caseName = "manifest-index"
)

// run is what one timed run of one tool works on.
type run struct {
	src         string // source registry host:port
	dst         string // target registry host:port (src itself for the mount case)
	out         string // a fresh, not yet existing directory for a pulled layout; for a manifest, the file stdout goes to
	layout      string // the OCI layout pushes read (tagged bigTag)
	dstRepo     string // target repository; for all tags, its last component is the source's
	concurrency int    // hoist's --concurrency; 0 keeps its default
}

func (r run) srcRef() string        { return r.src + "/" + bigRepo + ":" + bigTag }
func (r run) indexRef() string      { return r.src + "/" + indexRepo + ":" + indexTag }
func (r run) dstRef() string        { return r.dst + "/" + r.dstRepo + ":" + bigTag }
func (r run) srcTags() string       { return r.src + "/" + tagsRepo }
func (r run) dstTags() string       { return r.dst + "/" + r.dstRepo }
func (r run) dstTagsParent() string { return r.dst + "/" + path.Dir(r.dstRepo) }

// tool is a program under test: how it is invoked for each case, or why it
// cannot do that case. Every tool runs with its own defaults (concurrency,
// chunk sizes); the table states them.
type tool struct {
	name string
	bin  string
	args func(c caseName, r run) (args []string, na string)
	// floor, for a floor: does the transfer with curl instead of running
	// bin (args then only says which cases it cannot do).
	floor func(ctx context.Context, cu *curls, h *harness, c caseName, r run) error
}

func hoistArgs(c caseName, r run) ([]string, string) {
	var a []string
	switch c {
	case casePull:
		a = []string{"pull", "-q", r.srcRef(), "oci:" + r.out + ":" + bigTag}
	case casePush:
		a = []string{"push", "-q", "oci:" + r.layout + ":" + bigTag, r.dstRef()}
	case caseMount, caseCopy:
		a = []string{"copy", "-q", r.srcRef(), r.dstRef()}
	case caseAllTags:
		a = []string{"copy", "-q", "--all-tags", r.srcTags(), r.dstTags()}
	case caseIndex:
		return []string{"manifest", r.indexRef()}, ""
	}
	if r.concurrency > 0 {
		a = append(a, "--concurrency", strconv.Itoa(r.concurrency))
	}
	return a, ""
}

func craneArgs(c caseName, r run) ([]string, string) {
	switch c {
	case casePull:
		return []string{"pull", "--format=oci", r.srcRef(), r.out}, ""
	case casePush:
		return []string{"push", r.layout, r.dstRef()}, ""
	case caseMount, caseCopy:
		return []string{"copy", r.srcRef(), r.dstRef()}, ""
	case caseAllTags:
		return []string{"copy", "--all-tags", r.srcTags(), r.dstTags()}, ""
	case caseIndex:
		return []string{"manifest", r.indexRef()}, ""
	}
	return nil, "unknown case"
}

func regctlArgs(c caseName, r run) ([]string, string) {
	// --host marks both registries plain http without touching a config file.
	a := []string{"--host", "reg=" + r.src + ",tls=disabled"}
	if r.dst != "" && r.dst != r.src {
		a = append(a, "--host", "reg="+r.dst+",tls=disabled")
	}
	switch c {
	case casePull:
		return append(a, "image", "copy", r.srcRef(), "ocidir://"+r.out+":"+bigTag), ""
	case casePush:
		return append(a, "image", "copy", "ocidir://"+r.layout+":"+bigTag, r.dstRef()), ""
	case caseMount, caseCopy:
		return append(a, "image", "copy", r.srcRef(), r.dstRef()), ""
	case caseAllTags:
		return append(a, "repo", "copy", r.srcTags(), r.dstTags()), ""
	case caseIndex:
		return append(a, "manifest", "get", "--format", "raw-body", r.indexRef()), ""
	}
	return nil, "unknown case"
}

func skopeoArgs(c caseName, r run) ([]string, string) {
	cp := []string{"--insecure-policy", "copy", "--src-tls-verify=false", "--dest-tls-verify=false"}
	switch c {
	case casePull:
		return append(cp, "docker://"+r.srcRef(), "oci:"+r.out+":"+bigTag), ""
	case casePush:
		return append(cp, "oci:"+r.layout+":"+bigTag, "docker://"+r.dstRef()), ""
	case caseMount, caseCopy:
		return append(cp, "docker://"+r.srcRef(), "docker://"+r.dstRef()), ""
	case caseAllTags:
		// sync writes SRC's last path component under the destination.
		return []string{"--insecure-policy", "sync", "--src", "docker", "--dest", "docker",
			"--src-tls-verify=false", "--dest-tls-verify=false", r.srcTags(), r.dstTagsParent()}, ""
	case caseIndex:
		return []string{"inspect", "--raw", "--tls-verify=false", "docker://" + r.indexRef()}, ""
	}
	return nil, "unknown case"
}

func orasArgs(c caseName, r run) ([]string, string) {
	switch c {
	case casePull:
		return []string{"cp", "--from-plain-http", r.srcRef(), "--to-oci-layout", r.out + ":" + bigTag}, ""
	case casePush:
		return []string{"cp", "--from-oci-layout", r.layout + ":" + bigTag, "--to-plain-http", r.dstRef()}, ""
	case caseMount, caseCopy:
		return []string{"cp", "--from-plain-http", "--to-plain-http", r.srcRef(), r.dstRef()}, ""
	case caseAllTags:
		return nil, "oras cp copies one reference; it has no all-tags mode"
	case caseIndex:
		return []string{"manifest", "fetch", "--plain-http", r.indexRef()}, ""
	}
	return nil, "unknown case"
}
