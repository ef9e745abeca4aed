package ocilayout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

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
// Where the layout also has the subject's referrers tag (regctl keeps
// referrers there), m is added to that index too, so tools that read
// only the tag see it.
func (l *Layout) recordReferrer(ctx context.Context, m *content.Manifest, desc ocispec.Descriptor) error {
	s := m.Subject()
	if s == nil {
		return nil
	}
	desc.ArtifactType = m.ArtifactType()
	if err := l.Tag(ctx, desc, ""); err != nil {
		return err
	}
	if err := l.mergeReferrersTag(ctx, s.Digest, content.ReferrerDescriptor(m, desc)); err != nil {
		return fmt.Errorf("referrer %s is in OCI layout %s, but adding it to the referrers tag of %s failed: %w", desc.Digest, l.dir, s.Digest, err)
	}
	return nil
}

// mergeReferrersTag adds ref to the index subject's referrers tag names,
// when the layout has that tag and it names an index: a new index, with
// the tag moved to it only if no one moved it meanwhile (else again).
func (l *Layout) mergeReferrersTag(ctx context.Context, subject digest.Digest, ref ocispec.Descriptor) error {
	tag := content.ReferrersTag(subject)
	for range 3 {
		old, err := l.Resolve(ctx, tag)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		m, err := l.readManifest(ctx, old)
		if err != nil || m.Index == nil || m.Subject() != nil {
			return nil // not a referrers index: not ours to change
		}
		if slices.ContainsFunc(m.Index.Manifests, func(d ocispec.Descriptor) bool { return d.Digest == ref.Digest }) {
			return nil
		}
		next := *m.Index
		next.MediaType = content.MediaTypeOCIIndex
		next.Manifests = append(slices.Clone(next.Manifests), ref)
		raw, err := json.Marshal(next)
		if err != nil {
			return err
		}
		nd := content.NewDescriptor(content.MediaTypeOCIIndex, raw)
		if err := l.Push(ctx, nd, bytes.NewReader(raw)); err != nil {
			return err
		}
		if err := l.flush(); err != nil {
			return err
		}
		moved := false
		err = l.updateIndex(ctx, func(ix *index) (bool, error) {
			for _, e := range ix.entries {
				if e.refName() == tag && e.desc.Digest != old.Digest {
					return false, nil // another writer moved it: merge into theirs
				}
			}
			moved = true
			return ix.tag(nd, tag)
		})
		if err != nil || moved {
			return err
		}
	}
	return fmt.Errorf("tag %s kept moving under other writers", tag)
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
