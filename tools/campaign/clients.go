package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// client is a program the campaign runs: hoist or a peer.
type client struct {
	name string
	// argv returns the command line for op from src to dst (locations in
	// hoist's syntax: HOST/REPO:TAG, oci:DIR:TAG, docker-archive:FILE),
	// or nil when the client cannot do op.
	argv func(op string, p plan, src, dst string) []string
	// taglessLayout: the client writes a layout without naming the tag
	// in index.json, so the verifier resolves its only image.
	taglessLayout bool
}

// hoistClient runs the hoist binary with timeouts short enough for a
// campaign (the defaults are minutes apart from stalls of 20 s).
func hoistClient(bin string) client {
	return client{name: "hoist", argv: func(op string, p plan, src, dst string) []string {
		base := []string{bin, "-q", "--response-timeout", "3s", "--speed-time", "3s", "--stall-timeout", "3s", "--max-wait", "30s"}
		switch op {
		case opPush:
			return append(base, "push", src, dst)
		case opCopy:
			return append(base, "copy", src, dst)
		case opPullArchive:
			if p.image.name == "index" {
				base = append(base, "--platform", "linux/amd64")
			}
		}
		return append(base, "pull", src, dst)
	}}
}

// peerClients are the peers found on PATH among names.
func peerClients(names []string) ([]client, error) {
	var out []client
	for _, n := range names {
		bin, err := exec.LookPath(n)
		if err != nil {
			return nil, err
		}
		switch n {
		case "skopeo":
			out = append(out, client{name: n, argv: func(op string, p plan, src, dst string) []string {
				base := []string{bin, "copy", "-q", "--retry-times", "3", "--src-tls-verify=false", "--dest-tls-verify=false"}
				if op != opPullArchive {
					base = append(base, "--all")
				}
				return append(base, skopeoLoc(src), skopeoLoc(dst))
			}})
		case "crane":
			out = append(out, client{name: n, taglessLayout: true, argv: func(op string, p plan, src, dst string) []string {
				switch op {
				case opCopy:
					return []string{bin, "copy", "--insecure", src, dst}
				case opPullLayout:
					return []string{bin, "pull", "--insecure", "--format", "oci", src, layoutDir(dst)}
				case opPullArchive:
					return []string{bin, "pull", "--insecure", "--platform", "linux/amd64", src, strings.TrimPrefix(dst, "docker-archive:")}
				}
				return nil // crane pushes tarballs and layouts, not a tagged layout image
			}})
		}
	}
	return out, nil
}

var registryLoc = regexp.MustCompile(`^[0-9.]+:[0-9]+/`)

func skopeoLoc(l string) string {
	if registryLoc.MatchString(l) {
		return "docker://" + l
	}
	return l
}

// layoutDir is the directory of oci:DIR[:TAG].
func layoutDir(l string) string {
	d := strings.TrimPrefix(l, "oci:")
	if i := strings.LastIndex(d, ":"); i > 0 && !strings.Contains(d[i:], string(filepath.Separator)) {
		d = d[:i]
	}
	return d
}
