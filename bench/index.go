package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

const (
	indexRepo = "bench/index"
	indexTag  = "v1"
	ociIndex  = "application/vnd.oci.image.index.v1+json"
)

// rawManifest is a manifest as the registry stores it.
type rawManifest struct {
	repo, tag, mediaType, digest string
	body                         []byte
}

// indexPlatforms are the platforms the index lists, one tag image each.
var indexPlatforms = []struct{ os, arch, variant string }{
	{"linux", "amd64", ""}, {"linux", "arm64", "v8"}, {"linux", "arm", "v7"}, {"linux", "s390x", ""},
}

// prepareIndex makes sure the source holds indexRepo:indexTag, an OCI
// index over the first tag images (as a multi-platform image would be),
// and records its bytes.
func (h *harness) prepareIndex(ctx context.Context) error {
	if ix, err := getRaw(ctx, h.src.addr, indexRepo, indexTag); err == nil {
		h.fx.index = ix
		return nil
	}
	type desc struct {
		MediaType string            `json:"mediaType"`
		Digest    string            `json:"digest"`
		Size      int               `json:"size"`
		Platform  map[string]string `json:"platform"`
	}
	idx := struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
		Manifests     []desc `json:"manifests"`
	}{SchemaVersion: 2, MediaType: ociIndex}
	for i, p := range indexPlatforms {
		if i >= len(h.fx.tags) {
			break
		}
		im := h.fx.tags[i]
		for _, b := range im.blobs {
			url := "http://" + h.src.addr + "/v2/" + indexRepo + "/blobs/uploads/?mount=" + b.digest + "&from=" + im.repo
			if err := send(ctx, http.MethodPost, url, "", nil, http.StatusCreated); err != nil {
				return fmt.Errorf("mount %s into %s: %w", b.digest, indexRepo, err)
			}
		}
		if err := send(ctx, http.MethodPut, manifestURL(h.src.addr, indexRepo, im.digest), im.mediaType, im.manifest, http.StatusCreated); err != nil {
			return err
		}
		pl := map[string]string{"os": p.os, "architecture": p.arch}
		if p.variant != "" {
			pl["variant"] = p.variant
		}
		idx.Manifests = append(idx.Manifests, desc{im.mediaType, im.digest, len(im.manifest), pl})
	}
	body, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	if err := send(ctx, http.MethodPut, manifestURL(h.src.addr, indexRepo, indexTag), ociIndex, body, http.StatusCreated); err != nil {
		return err
	}
	h.fx.index, err = getRaw(ctx, h.src.addr, indexRepo, indexTag)
	return err
}

// send does one request and wants the given status.
func send(ctx context.Context, method, url, contentType string, body []byte, want int) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s, want %d: %s", method, url, resp.Status, want, bytes.TrimSpace(msg))
	}
	return nil
}

// getRaw fetches a manifest's bytes as stored.
func getRaw(ctx context.Context, host, repo, ref string) (rawManifest, error) {
	url := manifestURL(host, repo, ref)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return rawManifest{}, err
	}
	req.Header.Set("Accept", manifestAccept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return rawManifest{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return rawManifest{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return rawManifest{}, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return rawManifest{repo: repo, tag: ref, mediaType: resp.Header.Get("Content-Type"), body: body,
		digest: fmt.Sprintf("sha256:%x", sha256.Sum256(body))}, nil
}
