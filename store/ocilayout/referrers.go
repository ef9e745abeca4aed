package ocilayout

import (
	"context"
	"errors"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
)

// maxReferrerScan bounds how many index.json entries one Referrers call
// reads: a layout with more roots than this answers with an error rather
// than reading without end.
const maxReferrerScan = 100_000

// Referrers lists the manifests of the layout whose subject is subject
// (store.ReferrerLister), with their artifact type and annotations. A
// layout records a referrer in index.json, as image-spec 1.1 layouts do:
//
//   - as an entry of its own, tagged or not, whose manifest's subject is
//     subject; this is how hoist and oras write them;
//   - listed in the index tagged with subject's referrers tag
//     (content.ReferrersTag, "sha256-HEX"), the distribution spec's tag
//     schema, which is how regctl writes them.
//
// Both are read and merged, each referrer once. A non-empty artifactType
// keeps only those of that type; no referrers is an empty list. Entries
// that are not manifests are skipped, and so is a manifest that does not
// decode; a referrer listed whose blob is missing is an error matching
// store.ErrNotFound.
func (l *Layout) Referrers(ctx context.Context, subject digest.Digest, artifactType string) ([]ocispec.Descriptor, error) {
	if err := validDigest(subject); err != nil {
		return nil, err
	}
	ix, err := l.readIndex()
	if err != nil {
		return nil, err
	}
	if len(ix.entries) > maxReferrerScan {
		return nil, fmt.Errorf("OCI layout %s: index.json has %d entries, more than the %d hoist looks through for referrers", l.dir, len(ix.entries), maxReferrerScan)
	}
	out := []ocispec.Descriptor{}
	seen := map[digest.Digest]bool{subject: true}
	add := func(d ocispec.Descriptor) {
		if !seen[d.Digest] && (artifactType == "" || d.ArtifactType == artifactType) {
			out = append(out, d)
		}
		seen[d.Digest] = true
	}
	fallback := content.ReferrersTag(subject)
	for _, e := range ix.entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if seen[e.desc.Digest] || !isManifest(e.desc) {
			continue
		}
		m, err := l.readManifest(ctx, e.desc)
		if errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if err != nil {
			continue // not ours to judge here; Fetch reports it when asked
		}
		if e.refName() == fallback && m.Index != nil && m.Subject() == nil {
			for _, d := range m.Index.Manifests {
				if d.Digest.Validate() == nil {
					add(d)
				}
			}
			continue
		}
		if s := m.Subject(); s != nil && s.Digest == subject {
			add(content.ReferrerDescriptor(m, e.desc))
		}
	}
	return out, nil
}

// recordReferrer lists m, just pushed as desc, in index.json as an
// untagged root when it has a subject: that is where a layout keeps its
// referrers (see Referrers), as a registry indexes a referrer on push.
func (l *Layout) recordReferrer(ctx context.Context, m *content.Manifest, desc ocispec.Descriptor) error {
	if m.Subject() == nil {
		return nil
	}
	desc.ArtifactType = m.ArtifactType()
	return l.Tag(ctx, desc, "")
}

// readManifest reads and verifies the manifest desc names, capped at the
// size registries must accept.
func (l *Layout) readManifest(ctx context.Context, desc ocispec.Descriptor) (*content.Manifest, error) {
	if desc.Size > content.DefaultMaxManifestSize {
		return nil, content.TooLargeError("manifest "+desc.Digest.String(), content.DefaultMaxManifestSize)
	}
	rc, err := l.Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return content.ReadManifest(rc, desc.MediaType, content.DefaultMaxManifestSize)
}

var _ store.ReferrerLister = (*Layout)(nil)
