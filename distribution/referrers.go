package distribution

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/hoist-dev/hoist/transport"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errcode"
)

// ReferrersTag returns the tag under which clients keep the referrers of
// subject on a registry without the referrers API (the distribution spec's
// referrers tag schema); see content.ReferrersTag.
func ReferrersTag(subject digest.Digest) string { return content.ReferrersTag(subject) }

// Referrers lists the manifests whose subject is subject, optionally only
// those of one artifactType ("" for all), as descriptors carrying their
// artifact type and annotations.
//
// It asks the referrers API (GET /v2/NAME/referrers/DIGEST?artifactType=),
// following pagination, and filters the result itself as well, since many
// registries ignore the parameter (and say so by leaving out
// OCI-Filters-Applied). A registry that answers 404 lacks the API;
// Referrers then reads the referrers tag (ReferrersTag) instead, and no
// such tag, or a tag that is not an index, means no referrers. The
// answer is remembered for the Registry: later calls go to the tag at
// once.
func (r *Repository) Referrers(ctx context.Context, subject ocispec.Descriptor, artifactType string) ([]ocispec.Descriptor, error) {
	if err := subject.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("referrers of %q: %w", subject.Digest, err)
	}
	var list []ocispec.Descriptor
	err := errNoReferrersAPI
	if r.reg.referrersAPI.Load() != 2 { // once a registry said it lacks the API, go to the tag at once
		list, err = r.referrersAPI(ctx, subject.Digest, artifactType)
	}
	if errors.Is(err, errNoReferrersAPI) {
		list, err = r.referrersFromTag(ctx, subject.Digest)
	}
	if err != nil {
		return nil, err
	}
	if artifactType != "" {
		list = slices.DeleteFunc(list, func(d ocispec.Descriptor) bool { return d.ArtifactType != artifactType })
	}
	return list, nil
}

var errNoReferrersAPI = errors.New("registry has no referrers API")

// referrersAPI reads every page of the referrers API. Descriptors of other
// artifact types may remain when the registry did not filter.
func (r *Repository) referrersAPI(ctx context.Context, subject digest.Digest, artifactType string) ([]ocispec.Descriptor, error) {
	u := r.url("referrers", subject.String())
	if artifactType != "" {
		u = withQuery(u, "artifactType", artifactType)
	}
	var out []ocispec.Descriptor
	seen := map[string]bool{}
	for page := 0; u != nil; page++ {
		if seen[u.String()] {
			return nil, fmt.Errorf("referrers of %s: the registry's Link header loops back to %s", subject, errcode.RedactURL(u))
		}
		seen[u.String()] = true
		resp, err := r.reg.do(ctx, http.MethodGet, u, http.Header{"Accept": {content.MediaTypeOCIIndex}}, nil, 0)
		if err != nil {
			return nil, err
		}
		if page == 0 && resp.StatusCode == http.StatusNotFound {
			// The spec says to fall back on any 404. Remember that the
			// registry lacks the API only when the 404 is not about the
			// repository: a registry with the API says NAME_UNKNOWN for a
			// repository it does not have.
			if !errcode.FromResponse(resp).HasCode(errcode.CodeNameUnknown) {
				r.reg.referrersAPI.Store(2)
			}
			return nil, errNoReferrersAPI
		}
		if err := transport.Expect(resp, http.StatusOK); err != nil {
			return nil, err
		}
		r.reg.referrersAPI.Store(1)
		raw, err := content.ReadCapped(resp.Body, r.reg.opts.maxManifest, "referrers list of "+subject.String())
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		m, err := content.Decode(resp.Header.Get("Content-Type"), raw)
		if err != nil {
			return nil, fmt.Errorf("referrers of %s: %w", subject, err)
		}
		if m.Index == nil {
			return nil, fmt.Errorf("referrers of %s: the registry answered a %s, not an index", subject, m.Kind)
		}
		out = append(out, m.Index.Manifests...)
		u = nextLink(resp)
	}
	return out, nil
}

// referrersFromTag reads the referrers tag of subject. A missing tag, or
// one that does not hold an index, means there are none.
func (r *Repository) referrersFromTag(ctx context.Context, subject digest.Digest) ([]ocispec.Descriptor, error) {
	ix, err := r.referrersIndex(ctx, subject)
	if err != nil {
		var notIndex *notIndexError
		if errors.As(err, &notIndex) {
			return nil, nil
		}
		return nil, err
	}
	return ix.Manifests, nil
}

type notIndexError struct {
	tag  string
	kind content.Kind
}

func (e *notIndexError) Error() string {
	return fmt.Sprintf("tag %s holds a %s manifest, not a referrers index; refusing to overwrite it", e.tag, e.kind)
}

// referrersIndex fetches the referrers tag of subject: an empty index when
// the tag does not exist, a *notIndexError when it holds something else.
func (r *Repository) referrersIndex(ctx context.Context, subject digest.Digest) (*ocispec.Index, error) {
	tag := ReferrersTag(subject)
	// Accept every kind: asked for indexes only, a registry answers "not
	// found" for a tag that holds something else, which would then be
	// overwritten.
	m, err := r.Manifest(ctx, tag)
	switch {
	case errors.Is(err, errcode.ErrNotFound):
		return &ocispec.Index{Versioned: versioned2, MediaType: content.MediaTypeOCIIndex, Manifests: []ocispec.Descriptor{}}, nil
	case errors.Is(err, errcode.ErrUnsupported):
		return nil, &notIndexError{tag: tag, kind: content.KindUnknown}
	case err != nil:
		return nil, err
	case m.Index == nil:
		return nil, &notIndexError{tag: tag, kind: m.Kind}
	}
	return m.Index, nil
}

// ReferrersAPI reports whether the registry serves the referrers API, as
// far as this Registry has learnt from earlier calls: known is false until
// a Referrers call or a push of a referrer asked it.
func (r *Repository) ReferrersAPI() (api, known bool) {
	switch r.reg.referrersAPI.Load() {
	case 1:
		return true, true
	case 2:
		return false, true
	}
	return false, false
}

// hasReferrersAPI reports whether the registry serves the referrers API,
// asking it once (about subject) and remembering the answer.
func (r *Repository) hasReferrersAPI(ctx context.Context, subject digest.Digest) (bool, error) {
	switch r.reg.referrersAPI.Load() {
	case 1:
		return true, nil
	case 2:
		return false, nil
	}
	_, err := r.referrersAPI(ctx, subject, "")
	if errors.Is(err, errNoReferrersAPI) {
		return false, nil
	}
	return err == nil, err
}

// indexReferrer adds referrer to the referrers tag of subject, unless the
// registry has the referrers API (then it indexes by itself) or the tag
// already lists it.
func (r *Repository) indexReferrer(ctx context.Context, subject, referrer ocispec.Descriptor) error {
	return r.editReferrers(ctx, subject.Digest, func(list []ocispec.Descriptor) ([]ocispec.Descriptor, bool) {
		if slices.ContainsFunc(list, func(d ocispec.Descriptor) bool { return d.Digest == referrer.Digest }) {
			return list, false
		}
		return append(list, referrer), true
	})
}

// unindexReferrer removes gone from the referrers tag of subject, when the
// registry lacks the referrers API.
func (r *Repository) unindexReferrer(ctx context.Context, subject ocispec.Descriptor, gone digest.Digest) error {
	return r.editReferrers(ctx, subject.Digest, func(list []ocispec.Descriptor) ([]ocispec.Descriptor, bool) {
		n := len(list)
		list = slices.DeleteFunc(list, func(d ocispec.Descriptor) bool { return d.Digest == gone })
		return list, len(list) != n
	})
}

// editReferrers rewrites the referrers tag of subject with edit, when the
// registry lacks the referrers API and edit changes something. Edits of
// one tag from this process are queued and merged (see referrerQueues), so
// concurrent pushes of referrers of one subject lose none of them and
// share a read and a write of the tag. The spec leaves concurrent writers
// to the clients; two processes editing one tag at the same moment can
// still lose an entry, as with every client today.
func (r *Repository) editReferrers(ctx context.Context, subject digest.Digest, edit referrersEdit) error {
	api, err := r.hasReferrersAPI(ctx, subject)
	if err != nil || api {
		return err
	}
	tag := ReferrersTag(subject)
	return r.reg.referrerEdits.do(ctx, r.name+":"+tag, edit, referrersTagStore{r, subject})
}

// referrersTagStore reads and writes one referrers tag for a queue of
// edits.
type referrersTagStore struct {
	r       *Repository
	subject digest.Digest
}

func (s referrersTagStore) read(ctx context.Context) (*ocispec.Index, error) {
	return s.r.referrersIndex(ctx, s.subject)
}

func (s referrersTagStore) write(ctx context.Context, ix *ocispec.Index) error {
	if ix.Manifests == nil {
		ix.Manifests = []ocispec.Descriptor{}
	}
	ix.MediaType = content.MediaTypeOCIIndex
	raw := marshalIndex(ix)
	desc := content.NewDescriptor(content.MediaTypeOCIIndex, raw)
	_, err := s.r.putManifest(ctx, ReferrersTag(s.subject), desc, raw)
	return err
}
