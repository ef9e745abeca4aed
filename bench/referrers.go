package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// caseReferrers copies a small image with three referrers (an SBOM, a
// signature of the image, a signature of the SBOM) to an empty second
// registry. Both are Debian's docker-registry, without the referrers API:
// every tool reads and writes the referrers tag schema.
const caseReferrers caseName = "copy-referrers"

const (
	signedRepo = "bench/signed"
	signedTag  = "v1"
)

func init() {
	allCases = append(allCases, benchCase{name: caseReferrers, title: "copy with referrers",
		what:  "a 2 MiB image with an SBOM, a signature and a signature of the SBOM (attached by oras, the tag schema) to an empty second registry, referrers included",
		fresh: true})
}

// referrerFixture is the signed image and its tree of referrers in the
// source: subject digest -> referrer digests.
type referrerFixture struct {
	image string
	tree  map[string][]string
}

// count is how many referrers the tree holds.
func (f referrerFixture) count() int {
	n := 0
	for _, rs := range f.tree {
		n += len(rs)
	}
	return n
}

func signedRef(host string) string { return host + "/" + signedRepo + ":" + signedTag }

// referrersArgs gives each tool's command for the referrers case, and
// defers to args for the others.
func referrersArgs(name string, args func(caseName, run) ([]string, string)) func(caseName, run) ([]string, string) {
	return func(c caseName, r run) ([]string, string) {
		if c != caseReferrers {
			return args(c, r)
		}
		src, dst := signedRef(r.src), r.dst+"/"+r.dstRepo+":"+signedTag
		switch name {
		case "hoist":
			return []string{"copy", "-q", "--referrers", src, dst}, ""
		case "regctl":
			return []string{"--host", "reg=" + r.src + ",tls=disabled", "--host", "reg=" + r.dst + ",tls=disabled",
				"image", "copy", "--referrers", src, dst}, ""
		case "oras":
			return []string{"cp", "-r", "--from-plain-http", "--to-plain-http", src, dst}, ""
		case "crane":
			return nil, "crane copy has no referrers mode"
		case "skopeo":
			return nil, "skopeo copies cosign's .sig tags only, not OCI referrers"
		}
		return nil, "no floor: the round trips of a referrers walk are what is measured"
	}
}

// prepareReferrers makes sure the source holds signedRepo:signedTag with
// its three referrers, attached by oras (a neutral writer), and records
// the tree from the source's referrers tags.
func (h *harness) prepareReferrers(ctx context.Context) error {
	f, err := readReferrerTree(ctx, h.src.addr, signedRepo, signedTag)
	if err == nil && f.count() == 3 {
		h.fx.referrers = f
		return nil
	}
	h.logf("pushing %s:%s with three referrers (oras attach)", signedRepo, signedTag)
	if _, err := output(ctx, h.env(""), h.bins.crane, "copy", h.src.addr+"/"+baseRepo+":v1", signedRef(h.src.addr)); err != nil {
		return err
	}
	dir := filepath.Join(h.work, "referrers")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string]string{"sbom.spdx.json": `{"spdxVersion":"SPDX-2.3","name":"bench"}`, "image.sig": "a signature of the image", "sbom.sig": "a signature of the sbom"}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	attach := func(subject, artifactType, file string) (string, error) {
		// oras titles a file with its path as given: run it in dir.
		cmd := exec.CommandContext(ctx, h.bins.oras, "attach", "--plain-http", "--no-tty", "--format", "go-template", "--template", "{{.digest}}",
			"--artifact-type", artifactType, subject, file)
		cmd.Dir, cmd.Env = dir, h.env("")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("oras attach %s to %s: %w: %s", file, subject, err, out)
		}
		return strings.TrimSpace(string(out)), nil
	}
	sbom, err := attach(signedRef(h.src.addr), "application/spdx+json", "sbom.spdx.json")
	if err != nil {
		return err
	}
	if _, err := attach(signedRef(h.src.addr), "application/vnd.example.signature", "image.sig"); err != nil {
		return err
	}
	if _, err := attach(h.src.addr+"/"+signedRepo+"@"+sbom, "application/vnd.example.signature", "sbom.sig"); err != nil {
		return err
	}
	if h.fx.referrers, err = readReferrerTree(ctx, h.src.addr, signedRepo, signedTag); err != nil {
		return err
	}
	if n := h.fx.referrers.count(); n != 3 {
		return fmt.Errorf("%s:%s has %d referrers after three oras attach", signedRepo, signedTag, n)
	}
	return nil
}

// readReferrerTree walks the referrers tags (sha256-HEX) of repo:tag.
func readReferrerTree(ctx context.Context, host, repo, tag string) (referrerFixture, error) {
	img, err := getRaw(ctx, host, repo, tag)
	if err != nil {
		return referrerFixture{}, err
	}
	f := referrerFixture{image: img.digest, tree: map[string][]string{}}
	queue := []string{img.digest}
	for len(queue) > 0 && len(f.tree) < 100 {
		subject := queue[0]
		queue = queue[1:]
		ix, err := getRaw(ctx, host, repo, strings.Replace(subject, ":", "-", 1))
		if err != nil {
			continue // no referrers tag: no referrers
		}
		var list struct{ Manifests []struct{ Digest string } }
		if err := json.Unmarshal(ix.body, &list); err != nil {
			return f, fmt.Errorf("referrers tag of %s: %w", subject, err)
		}
		for _, m := range list.Manifests {
			f.tree[subject] = append(f.tree[subject], m.Digest)
			queue = append(queue, m.Digest)
		}
		slices.Sort(f.tree[subject])
	}
	return f, nil
}

// verifyReferrers checks that the target holds the signed image under its
// tag and the source's tree of referrers, digests unchanged.
func verifyReferrers(ctx context.Context, host, repo string, want referrerFixture) error {
	if err := verifyRemote(ctx, host, repo, signedTag, want.image); err != nil {
		return err
	}
	got, err := readReferrerTree(ctx, host, repo, signedTag)
	if err != nil {
		return err
	}
	for subject, rs := range want.tree {
		if !slices.Equal(got.tree[subject], rs) {
			return fmt.Errorf("the referrers tag of %s lists %v, want the source's %v", subject, got.tree[subject], rs)
		}
		for _, d := range rs {
			if err := verifyRemote(ctx, host, repo, d, d); err != nil {
				return fmt.Errorf("referrer %s: %w", d, err)
			}
		}
	}
	return nil
}
