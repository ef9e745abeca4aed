package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// verifyLayout checks that the OCI layout in dir lists im's manifest in its
// index.json and holds the manifest and every blob at the right size. A tool
// that is fast because it skipped work fails here.
func verifyLayout(dir string, im image) error {
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return err
	}
	var idx struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return fmt.Errorf("%s/index.json: %w", dir, err)
	}
	found := false
	for _, m := range idx.Manifests {
		found = found || m.Digest == im.digest
	}
	if !found {
		return fmt.Errorf("%s/index.json does not list %s", dir, im.digest)
	}
	want := append([]blobRef{{im.digest, int64(len(im.manifest))}}, im.blobs...)
	return verifyFiles(filepath.Join(dir, "blobs"), want, true)
}

// verifyFiles checks that every blob is a file of the right size under dir,
// as dir/ALG/HEX (nested) or dir/ALG:HEX.
func verifyFiles(dir string, blobs []blobRef, nested bool) error {
	for _, bl := range blobs {
		name := bl.digest
		if nested {
			name = strings.Replace(name, ":", string(filepath.Separator), 1)
		}
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("blob missing: %w", err)
		}
		if fi.Size() != bl.size {
			return fmt.Errorf("blob %s is %d bytes, want %d", bl.digest, fi.Size(), bl.size)
		}
	}
	return nil
}

// verifyRemote checks that repo:tag on host resolves to digest.
func verifyRemote(ctx context.Context, host, repo, tag, digest string) error {
	url := "http://" + host + "/v2/" + repo + "/manifests/" + tag
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", manifestAccept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HEAD %s: %s", url, resp.Status)
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != digest {
		return fmt.Errorf("%s/%s:%s is %s, want the source's %s", host, repo, tag, got, digest)
	}
	return nil
}

// verifyAllTags checks that every tag of the source repository arrived with
// its digest unchanged.
func verifyAllTags(ctx context.Context, host, repo string, tags []image) error {
	for _, im := range tags {
		if err := verifyRemote(ctx, host, repo, im.tag, im.digest); err != nil {
			return err
		}
	}
	return nil
}
