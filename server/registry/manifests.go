package registry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/server/storage"
	"github.com/hoist-dev/hoist/store"
)

// ManifestPutter is a store.Repository that can store a manifest and hand
// back what it decoded, so the handler answers OCI-Subject without parsing
// twice. server/storage implements it; other repositories get Push.
type ManifestPutter interface {
	PutManifest(ctx context.Context, desc ocispec.Descriptor, r io.Reader) (*content.Manifest, error)
}

// isDigest tells a digest reference from a tag.
func isDigest(ref string) bool { return strings.Contains(ref, ":") }

// getManifest answers GET and HEAD of a manifest by tag or digest.
func (h *Handler) getManifest(c call) {
	if !isDigest(c.arg) {
		if err := reference.ValidateTag(c.arg); err != nil {
			WriteError(c.w, http.StatusBadRequest, CodeTagInvalid, err.Error())
			return
		}
	} else if _, ok := parseDigest(c.w, c.arg); !ok {
		return
	}
	desc, err := c.repo.Resolve(c.ctx(), c.arg)
	if err != nil {
		h.fail(c.w, c.r, err, CodeManifestUnknown)
		return
	}
	hd := c.w.Header()
	hd.Set("Content-Type", desc.MediaType)
	hd.Set("Docker-Content-Digest", desc.Digest.String())
	hd.Set("ETag", `"`+desc.Digest.String()+`"`)
	hd.Set("Content-Length", strconv.FormatInt(desc.Size, 10))
	if c.r.Method == http.MethodHead {
		c.w.WriteHeader(http.StatusOK)
		return
	}
	rc, err := c.repo.Fetch(c.ctx(), desc)
	if err != nil {
		hd.Del("Content-Length")
		h.fail(c.w, c.r, err, CodeManifestUnknown)
		return
	}
	defer rc.Close()
	c.w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(c.w, rc); err != nil && c.r.Context().Err() == nil {
		h.cfg.logger.Error("manifest read failed", "repository", c.name, "digest", desc.Digest, "err", err)
	}
}

// putManifest answers PUT of a manifest by tag, or by digest with any
// number of ?tag= parameters.
func (h *Handler) putManifest(c call) {
	var tags []string
	desc := ocispec.Descriptor{MediaType: c.r.Header.Get("Content-Type")}
	if isDigest(c.arg) {
		d, ok := parseDigest(c.w, c.arg)
		if !ok {
			return
		}
		desc.Digest = d
		tags = c.r.URL.Query()["tag"]
	} else {
		tags = []string{c.arg}
	}
	for _, t := range tags {
		if err := reference.ValidateTag(t); err != nil {
			WriteError(c.w, http.StatusBadRequest, CodeTagInvalid, err.Error())
			return
		}
	}
	if content.KindOf(desc.MediaType) == content.KindUnknown {
		// An older client that sends no Content-Type: the manifest's own
		// mediaType decides.
		desc.MediaType = ""
	}
	var subject *ocispec.Descriptor
	var stored digest.Digest
	if mp, ok := c.repo.(ManifestPutter); ok {
		m, err := mp.PutManifest(c.ctx(), desc, c.r.Body)
		if err != nil {
			h.failManifest(c, err)
			return
		}
		subject, stored, desc.MediaType = m.Subject(), m.Descriptor.Digest, m.Descriptor.MediaType
	} else {
		raw, err := content.ReadCapped(c.r.Body, 0, "manifest")
		if err != nil {
			h.failManifest(c, err)
			return
		}
		m, err := content.Decode(desc.MediaType, raw)
		if err != nil {
			h.failManifest(c, errors.Join(errdef.ErrInvalid, err))
			return
		}
		if desc.Digest != "" {
			m.Descriptor.Digest = desc.Digest
		}
		if err := c.repo.Push(c.ctx(), m.Descriptor, strings.NewReader(string(raw))); err != nil {
			h.failManifest(c, err)
			return
		}
		subject, stored, desc = m.Subject(), m.Descriptor.Digest, m.Descriptor
	}
	desc.Digest = stored
	for _, t := range tags {
		if err := c.repo.Tag(c.ctx(), desc, t); err != nil {
			h.failManifest(c, err)
			return
		}
	}
	hd := c.w.Header()
	if isDigest(c.arg) {
		for _, t := range tags {
			hd.Add("OCI-Tag", t)
		}
	}
	if subject != nil {
		hd.Set("OCI-Subject", subject.Digest.String())
	}
	hd.Set("Location", "/v2/"+c.name+"/manifests/"+stored.String())
	hd.Set("Docker-Content-Digest", stored.String())
	hd.Set("Content-Length", "0")
	c.w.WriteHeader(http.StatusCreated)
}

// failManifest answers a failed manifest PUT: a missing child is
// MANIFEST_BLOB_UNKNOWN, not a missing manifest.
func (h *Handler) failManifest(c call, err error) {
	var missing *storage.MissingError
	switch {
	case errors.As(err, &missing):
		WriteError(c.w, http.StatusBadRequest, CodeManifestBlobUnknown, err.Error())
	case errors.Is(err, errdef.ErrNotFound):
		WriteError(c.w, http.StatusBadRequest, CodeManifestBlobUnknown, err.Error())
	case errors.Is(err, errdef.ErrDigestMismatch):
		WriteError(c.w, http.StatusBadRequest, CodeDigestInvalid, err.Error())
	default:
		h.fail(c.w, c.r, err, CodeManifestUnknown)
	}
}

// deleteManifest answers DELETE of a manifest by digest (with its tags),
// or of a tag alone.
func (h *Handler) deleteManifest(c call) {
	if !isDigest(c.arg) {
		if err := reference.ValidateTag(c.arg); err != nil {
			WriteError(c.w, http.StatusBadRequest, CodeTagInvalid, err.Error())
			return
		}
		if err := c.repo.Untag(c.ctx(), c.arg); err != nil {
			h.fail(c.w, c.r, err, CodeManifestUnknown)
			return
		}
	} else {
		if _, ok := parseDigest(c.w, c.arg); !ok {
			return
		}
		desc, err := c.repo.Resolve(c.ctx(), c.arg)
		if err == nil {
			err = c.repo.Delete(c.ctx(), desc)
		}
		if err != nil {
			h.fail(c.w, c.r, err, CodeManifestUnknown)
			return
		}
	}
	c.w.Header().Set("Content-Length", "0")
	c.w.WriteHeader(http.StatusAccepted)
}

var _ store.Repository = (*storage.Repository)(nil)
