package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// blobRef is a blob of a test image.
type blobRef struct {
	digest string
	size   int64
}

// image is a test image as the source registry holds it.
type image struct {
	repo, tag string
	mediaType string
	digest    string
	manifest  []byte
	blobs     []blobRef // config first, then layers
}

// size is the sum of the blob sizes (what a full transfer moves).
func (im image) size() int64 {
	var n int64
	for _, b := range im.blobs {
		n += b.size
	}
	return n
}

// fixtures are the test images and the layout pushes read from.
type fixtures struct {
	big       image
	tagsRepo  string
	tags      []image
	layout    string // OCI layout holding big, tagged bigTag (written by skopeo)
	index     rawManifest
	referrers referrerFixture // referrers.go
}

const (
	bigRepo  = "bench/big"
	bigTag   = "v1"
	tagsRepo = "bench/tags"
	baseRepo = "bench/tags-base"
)

// tagName is the name of the i-th tag of the tags repository.
func tagName(i int) string { return fmt.Sprintf("t%02d", i) }

// fingerprint names the content of a fixture set; a source registry built
// from other specs is rebuilt.
func (s imageSpecs) fingerprint() string {
	h := sha256.New()
	for _, l := range s.big {
		seed := l.seed()
		h.Write(seed[:])
	}
	seed := s.tagsBase.seed()
	h.Write(seed[:])
	for i := range s.tags {
		seed := s.tagLayer(i).seed()
		h.Write(seed[:])
	}
	return fmt.Sprintf("%x", h.Sum(nil)[:8])
}

// prepareSource generates the layers, starts the source registry (its data
// is kept between invocations when the specs have not changed) and pushes
// the test images with crane if they are missing.
func (h *harness) prepareSource(ctx context.Context, specs imageSpecs) error {
	layerDir := filepath.Join(h.work, "layers")
	h.logf("generating layers under %s (kept for later runs)", layerDir)
	bigLayers, err := ensureLayers(layerDir, specs.big)
	if err != nil {
		return err
	}
	tagSpecs := []layerSpec{specs.tagsBase}
	for i := range specs.tags {
		tagSpecs = append(tagSpecs, specs.tagLayer(i))
	}
	tagLayers, err := ensureLayers(layerDir, tagSpecs)
	if err != nil {
		return err
	}

	dir := filepath.Join(h.work, "source-"+h.scale())
	stamp := filepath.Join(dir, "fingerprint")
	if b, err := os.ReadFile(stamp); err != nil || strings.TrimSpace(string(b)) != specs.fingerprint() {
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	if h.src, err = startRegistry(ctx, h.bins.registry, dir, h.cfg.accessLog); err != nil {
		return err
	}
	if err := os.WriteFile(stamp, []byte(specs.fingerprint()+"\n"), 0o644); err != nil {
		return err
	}

	if _, err := getImage(ctx, h.src.addr, bigRepo, bigTag); err != nil {
		h.logf("pushing %s:%s (%d layers) with crane append", bigRepo, bigTag, len(bigLayers))
		argv := []string{h.bins.crane, "append", "--oci-empty-base", "-t", h.src.addr + "/" + bigRepo + ":" + bigTag}
		for _, p := range bigLayers {
			argv = append(argv, "-f", p)
		}
		if _, err := output(ctx, h.env(""), argv...); err != nil {
			return err
		}
	}
	base := h.src.addr + "/" + baseRepo + ":v1"
	if _, err := getImage(ctx, h.src.addr, baseRepo, "v1"); err != nil {
		if _, err := output(ctx, h.env(""), h.bins.crane, "append", "--oci-empty-base", "-f", tagLayers[0], "-t", base); err != nil {
			return err
		}
	}
	for i := range specs.tags {
		if _, err := getImage(ctx, h.src.addr, tagsRepo, tagName(i)); err == nil {
			continue
		}
		if i == 0 {
			h.logf("pushing %d tags of %s with crane append", specs.tags, tagsRepo)
		}
		ref := h.src.addr + "/" + tagsRepo + ":" + tagName(i)
		if _, err := output(ctx, h.env(""), h.bins.crane, "append", "-b", base, "-f", tagLayers[i+1], "-t", ref); err != nil {
			return err
		}
	}

	if h.fx.big, err = getImage(ctx, h.src.addr, bigRepo, bigTag); err != nil {
		return err
	}
	h.fx.tagsRepo = tagsRepo
	h.fx.tags = nil
	for i := range specs.tags {
		im, err := getImage(ctx, h.src.addr, tagsRepo, tagName(i))
		if err != nil {
			return err
		}
		h.fx.tags = append(h.fx.tags, im)
	}
	if err := h.prepareIndex(ctx); err != nil {
		return err
	}
	if err := h.prepareReferrers(ctx); err != nil {
		return err
	}
	return h.prepareLayout(ctx)
}

// prepareLayout writes the layout the push case reads, with skopeo (a
// neutral writer every tool reads; the image is OCI-typed, so skopeo keeps
// its digest).
func (h *harness) prepareLayout(ctx context.Context) error {
	dir := filepath.Join(h.work, "layout-"+h.scale())
	h.fx.layout = dir
	if verifyLayout(dir, h.fx.big) == nil {
		return nil
	}
	h.logf("writing the push source layout %s with skopeo", dir)
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if _, err := output(ctx, h.env(""), h.bins.skopeo, "--insecure-policy", "copy", "-q", "--src-tls-verify=false",
		"docker://"+h.src.addr+"/"+bigRepo+":"+bigTag, "oci:"+dir+":"+bigTag); err != nil {
		return err
	}
	if err := verifyLayout(dir, h.fx.big); err != nil {
		return fmt.Errorf("skopeo wrote a layout that does not hold the source image unchanged: %w", err)
	}
	return nil
}

// manifestAccept lists every manifest type a test image may have.
const manifestAccept = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, " +
	"application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json"

// getImage fetches an image manifest from a registry and lists its blobs.
func getImage(ctx context.Context, host, repo, tag string) (image, error) {
	raw, err := getRaw(ctx, host, repo, tag)
	if err != nil {
		return image{}, err
	}
	var m struct {
		MediaType string `json:"mediaType"`
		Config    struct {
			Digest string `json:"digest"`
			Size   int64  `json:"size"`
		} `json:"config"`
		Layers []struct {
			Digest string `json:"digest"`
			Size   int64  `json:"size"`
		} `json:"layers"`
	}
	url := manifestURL(host, repo, tag)
	if err := json.Unmarshal(raw.body, &m); err != nil {
		return image{}, fmt.Errorf("GET %s: %w", url, err)
	}
	if m.Config.Digest == "" {
		return image{}, fmt.Errorf("GET %s: not an image manifest (%s)", url, m.MediaType)
	}
	im := image{repo: repo, tag: tag, mediaType: m.MediaType, manifest: raw.body, digest: raw.digest}
	im.blobs = append(im.blobs, blobRef{m.Config.Digest, m.Config.Size})
	for _, l := range m.Layers {
		im.blobs = append(im.blobs, blobRef{l.Digest, l.Size})
	}
	return im, nil
}

// uniqueBlobs lists the blobs of images once each, in first-seen order.
func uniqueBlobs(ims []image) []blobRef {
	seen := map[string]bool{}
	var out []blobRef
	for _, im := range ims {
		for _, b := range im.blobs {
			if !seen[b.digest] {
				seen[b.digest] = true
				out = append(out, b)
			}
		}
	}
	return out
}
