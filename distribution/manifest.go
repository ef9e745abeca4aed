package distribution

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/transport"
)

// acceptManifests is the Accept header for manifest requests: every kind
// hoist reads.
var acceptManifests = strings.Join(content.ManifestMediaTypes(), ", ")

// parseRef tells a digest reference from a tag. A tag never holds ':'.
func parseRef(ref string) (digest.Digest, bool, error) {
	if ref == "" {
		return "", false, fmt.Errorf("empty manifest reference: want a tag or a digest")
	}
	if !strings.Contains(ref, ":") {
		if len(ref) > 128 || strings.ContainsAny(ref, "/ \t\r\n?#") {
			return "", false, fmt.Errorf("tag %q is invalid: up to 128 letters, digits, '_', '.' and '-'", ref)
		}
		return "", false, nil
	}
	d, err := digest.Parse(ref)
	if err != nil {
		return "", false, fmt.Errorf("manifest reference %q is neither a tag nor a valid digest: %w", ref, err)
	}
	return d, true, nil
}

// Manifest fetches the manifest ref (a tag or a digest) and decodes it.
// The result keeps the exact bytes in Raw. Fetched by digest, the bytes
// must hash to it; a Docker-Content-Digest header, when the registry sends
// one, must match them too; either mismatch wraps errcode.ErrDigestMismatch.
// A manifest larger than the cap (WithMaxManifestSize) is refused with
// errcode.ErrTooLarge before it is read whole. A missing manifest is an
// *errcode.Error matching errcode.ErrNotFound.
//
// An answer whose body breaks off, is empty, is shorter or longer than its
// Content-Length, does not decode or does not match its digest is asked
// for again, up to maxManifestAttempts times in all; the last failure is
// returned. An HTTP error answer is not, nor a request that got no answer
// at all: the transport has retried those that are worth it.
func (r *Repository) Manifest(ctx context.Context, ref string) (*content.Manifest, error) {
	d, byDigest, err := parseRef(ref)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		m, answered, err := r.manifestOnce(ctx, ref, d, byDigest)
		var ee *errcode.Error
		if err == nil || !answered || attempt >= maxManifestAttempts || ctx.Err() != nil ||
			errors.As(err, &ee) || errors.Is(err, errcode.ErrTooLarge) {
			return m, err
		}
	}
}

// maxManifestAttempts bounds the GETs of one Manifest call whose answers
// came with a broken body.
const maxManifestAttempts = 3

// manifestOnce is one GET of manifest ref. answered reports whether
// response headers came back, so that a failure is the body's.
func (r *Repository) manifestOnce(ctx context.Context, ref string, d digest.Digest, byDigest bool) (m *content.Manifest, answered bool, err error) {
	resp, err := r.reg.do(ctx, http.MethodGet, r.url("manifests", ref), http.Header{"Accept": {acceptManifests}}, nil, 0)
	if err != nil {
		return nil, false, err
	}
	m, err = r.decodeManifest(resp, ref, d, byDigest)
	return m, true, err
}

// decodeManifest reads, checks and decodes the answer to a GET of
// manifest ref.
func (r *Repository) decodeManifest(resp *http.Response, ref string, d digest.Digest, byDigest bool) (*content.Manifest, error) {
	if err := transport.Expect(resp, http.StatusOK); err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	limit := r.reg.opts.maxManifest
	what := fmt.Sprintf("manifest %s:%s", r.name, ref)
	if byDigest {
		what = fmt.Sprintf("manifest %s@%s", r.name, ref)
	}
	if resp.ContentLength > limit {
		return nil, manifestCapHint(content.TooLargeError(what, limit))
	}
	raw, err := content.ReadCapped(resp.Body, limit, what)
	if err != nil {
		if errors.Is(err, errcode.ErrTooLarge) {
			return nil, manifestCapHint(err)
		}
		return nil, err
	}
	if resp.ContentLength >= 0 && int64(len(raw)) != resp.ContentLength {
		return nil, fmt.Errorf("%s: the registry sent %d bytes of the %d its Content-Length announced: %w", what, len(raw), resp.ContentLength, errcode.ErrSizeMismatch)
	}
	m, err := content.Decode(resp.Header.Get("Content-Type"), raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if byDigest {
		if err := m.Verify(d); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		m.Descriptor.Digest = d
	}
	if h := resp.Header.Get("Docker-Content-Digest"); h != "" {
		sent, err := digest.Parse(h)
		if err != nil {
			return nil, fmt.Errorf("%s: registry sent a malformed Docker-Content-Digest %q: %w", what, h, err)
		}
		if err := m.Verify(sent); err != nil {
			return nil, fmt.Errorf("%s: the registry's Docker-Content-Digest %s does not match the bytes it sent: %w", what, sent, err)
		}
		m.Descriptor.Digest = sent // the name the registry knows it by (a schema 1 payload's, say)
	}
	return m, nil
}

// manifestCapHint names the option that raises the manifest size cap.
func manifestCapHint(err error) error {
	return &transport.OptionHint{Err: err, Action: "raise the cap", Option: "distribution.WithMaxManifestSize"}
}

// ManifestHead returns the descriptor of manifest ref (a tag or a digest)
// without fetching it: media type, digest and size from a HEAD request.
// When the registry leaves something out (no Docker-Content-Digest for a
// tag, no Content-Length, a Content-Type that is not a manifest type), it
// falls back to fetching the manifest, so the descriptor is always whole.
// A missing manifest matches errcode.ErrNotFound.
func (r *Repository) ManifestHead(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	d, byDigest, err := parseRef(ref)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	resp, err := r.reg.do(ctx, http.MethodHead, r.url("manifests", ref), http.Header{"Accept": {acceptManifests}}, nil, 0)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := transport.Expect(resp, http.StatusOK); err != nil {
		return ocispec.Descriptor{}, err
	}
	transport.Drain(resp)
	desc := ocispec.Descriptor{MediaType: content.BaseType(resp.Header.Get("Content-Type")), Size: resp.ContentLength}
	if h := resp.Header.Get("Docker-Content-Digest"); h != "" {
		if sent, err := digest.Parse(h); err == nil {
			desc.Digest = sent
		}
	}
	if byDigest {
		if desc.Digest != "" && desc.Digest != d && desc.Digest.Algorithm() == d.Algorithm() {
			return ocispec.Descriptor{}, fmt.Errorf("manifest %s@%s: the registry answered for %s: %w", r.name, d, desc.Digest, errcode.ErrDigestMismatch)
		}
		desc.Digest = d
	}
	if desc.Digest == "" || desc.Size < 0 || content.KindOf(desc.MediaType) == content.KindUnknown {
		m, err := r.Manifest(ctx, ref)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		return m.Descriptor, nil
	}
	return desc, nil
}

// PutManifest stores raw as manifest ref (a tag, or the manifest's own
// digest) and returns its descriptor. mediaType is sent as Content-Type;
// "" means the manifest's own mediaType field. The bytes are sent exactly
// as given.
//
// Before sending, raw is decoded and checked: it must be a manifest kind
// hoist writes (Docker schema 1 is refused with errcode.ErrUnsupported),
// its mediaType field, if any, must equal mediaType, and when ref is a
// digest, raw must hash to it. After, the registry's Docker-Content-Digest
// must equal the digest hoist computed.
//
// When the manifest has a subject and the registry does not answer with
// OCI-Subject, the registry has not indexed it; if it also lacks the
// referrers API, PutManifest adds the manifest to the subject's referrers
// tag (see ReferrersTag), as the distribution spec asks of clients. An
// error there is returned after the manifest itself was stored, and says so.
func (r *Repository) PutManifest(ctx context.Context, ref, mediaType string, raw []byte) (ocispec.Descriptor, error) {
	d, byDigest, err := parseRef(ref)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	m, err := content.Decode(mediaType, raw)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push manifest %s: %w", refName(r.name, ref), err)
	}
	if m.Kind == content.KindLegacy {
		return ocispec.Descriptor{}, fmt.Errorf("push manifest %s: Docker schema 1 is legacy and read-only; convert the image to OCI or Docker schema 2 first: %w", refName(r.name, ref), errcode.ErrUnsupported)
	}
	if mediaType == "" {
		mediaType = m.Descriptor.MediaType
	} else if content.BaseType(mediaType) != m.Descriptor.MediaType {
		return ocispec.Descriptor{}, fmt.Errorf("push manifest %s: it says its mediaType is %q but it is being pushed as %q; they must be equal", refName(r.name, ref), m.Descriptor.MediaType, mediaType)
	}
	desc := m.Descriptor
	desc.MediaType = mediaType
	if byDigest {
		if err := m.Verify(d); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("push manifest %s@%s: %w", r.name, d, err)
		}
		desc.Digest = d
	}
	resp, err := r.putManifest(ctx, ref, desc, raw)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if s := m.Subject(); s != nil && resp.Header.Get("OCI-Subject") == "" {
		if err := r.indexReferrer(ctx, *s, content.ReferrerDescriptor(m, desc)); err != nil {
			return desc, fmt.Errorf("manifest %s@%s was pushed, but recording it as a referrer of %s failed: %w", r.name, desc.Digest, s.Digest, err)
		}
	}
	return desc, nil
}

// errUnconfirmed marks a PUT answered without the spec's 201 and digest
// whose manifest the registry then did not have.
var errUnconfirmed = errors.New("the registry does not have it")

// putManifest PUTs raw and checks the digest the registry computed. A PUT
// whose success the registry then does not confirm is sent once more.
func (r *Repository) putManifest(ctx context.Context, ref string, desc ocispec.Descriptor, raw []byte) (*http.Response, error) {
	resp, err := r.putManifestOnce(ctx, ref, desc, raw)
	if errors.Is(err, errUnconfirmed) && ctx.Err() == nil {
		resp, err = r.putManifestOnce(ctx, ref, desc, raw)
	}
	return resp, err
}

func (r *Repository) putManifestOnce(ctx context.Context, ref string, desc ocispec.Descriptor, raw []byte) (*http.Response, error) {
	hdr := http.Header{"Content-Type": {desc.MediaType}}
	resp, err := r.reg.do(ctx, http.MethodPut, r.url("manifests", ref), hdr, bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		return nil, err
	}
	if err := transport.Expect(resp, http.StatusCreated, http.StatusOK, http.StatusAccepted, http.StatusNoContent); err != nil {
		return nil, err
	}
	transport.Drain(resp)
	h := resp.Header.Get("Docker-Content-Digest")
	if h != "" {
		got, err := digest.Parse(h)
		if err != nil {
			return nil, fmt.Errorf("push manifest %s: registry answered a malformed Docker-Content-Digest %q", refName(r.name, ref), h)
		}
		if got.Algorithm().FromBytes(raw) != got {
			return nil, fmt.Errorf("push manifest %s: registry stored it as %s, but its bytes are %s: %w", refName(r.name, ref), got, desc.Digest, errcode.ErrDigestMismatch)
		}
	}
	if h == "" && resp.StatusCode != http.StatusCreated {
		// Not the spec's answer (201 with the digest): a front that says
		// yes without asking the registry looks just like this. Check.
		got, err := r.ManifestHead(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("push manifest %s: the PUT was answered %d without a digest, and then %w (%v)", refName(r.name, ref), resp.StatusCode, errUnconfirmed, err)
		}
		if got.Digest != desc.Digest {
			return nil, fmt.Errorf("push manifest %s: the PUT was answered %d without a digest, and then the registry has %s under it, not %s: %w", refName(r.name, ref), resp.StatusCode, got.Digest, desc.Digest, errUnconfirmed)
		}
	}
	return resp, nil
}

// DeleteManifest deletes manifest ref. By digest it removes the manifest
// and every tag pointing at it; by tag it removes only the tag, where the
// registry supports that (others answer errcode.ErrUnsupported). A
// registry with deletion disabled answers errcode.ErrUnsupported too.
//
// Deleting by digest a manifest that has a subject, on a registry without
// the referrers API, also removes it from the subject's referrers tag.
func (r *Repository) DeleteManifest(ctx context.Context, ref string) error {
	_, byDigest, err := parseRef(ref)
	if err != nil {
		return err
	}
	var subject *ocispec.Descriptor
	if byDigest {
		// Only a manifest that is about to go can say what it referred to;
		// failing to read it must not stop the delete.
		if m, err := r.Manifest(ctx, ref); err == nil {
			subject = m.Subject()
		}
	}
	resp, err := r.reg.do(ctx, http.MethodDelete, r.url("manifests", ref), nil, nil, 0)
	if err != nil {
		return err
	}
	if err := transport.Expect(resp, http.StatusAccepted, http.StatusOK, http.StatusNoContent); err != nil {
		if e, ok := err.(*errcode.Error); ok && (e.Status == http.StatusBadRequest || e.Status == http.StatusMethodNotAllowed) && !e.HasCode(errcode.CodeDigestInvalid) {
			return fmt.Errorf("delete manifest %s: the registry does not allow deleting (%w): %w", refName(r.name, ref), errcode.ErrUnsupported, err)
		}
		return err
	}
	transport.Drain(resp)
	if subject != nil {
		if err := r.unindexReferrer(ctx, *subject, digest.Digest(ref)); err != nil {
			return fmt.Errorf("manifest %s@%s was deleted, but removing it from the referrers of %s failed: %w", r.name, ref, subject.Digest, err)
		}
	}
	return nil
}

var versioned2 = specs.Versioned{SchemaVersion: 2}

// marshalIndex serialises an index hoist builds itself (referrers lists).
func marshalIndex(ix *ocispec.Index) []byte {
	b, _ := json.Marshal(ix)
	return b
}
