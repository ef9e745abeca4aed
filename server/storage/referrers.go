package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
)

// referrerPath is where manifest ref is recorded as a referrer of subject.
func (r *Repository) referrerPath(subject, ref digest.Digest) string {
	return path.Join(r.root, dirReferrers, string(subject.Algorithm()), subject.Encoded(),
		string(ref.Algorithm())+"-"+ref.Encoded())
}

// addReferrer records m, whose subject is subject, among subject's
// referrers, with the descriptor the referrers API answers.
func (r *Repository) addReferrer(ctx context.Context, subject ocispec.Descriptor, m *content.Manifest) error {
	if err := validDigest(subject.Digest); err != nil {
		return err
	}
	b, err := json.Marshal(referrerDescriptor(m))
	if err != nil {
		return err
	}
	return r.ns.putAtomic(ctx, r.referrerPath(subject.Digest, m.Descriptor.Digest), b)
}

// referrerDescriptor is m's entry in a referrers list: media type, digest,
// size, artifact type (an image's config media type when it has none of
// its own) and annotations.
func referrerDescriptor(m *content.Manifest) ocispec.Descriptor {
	d := ocispec.Descriptor{MediaType: m.Descriptor.MediaType, Digest: m.Descriptor.Digest, Size: m.Descriptor.Size}
	switch {
	case m.Image != nil:
		d.ArtifactType, d.Annotations = m.Image.ArtifactType, m.Image.Annotations
		if d.ArtifactType == "" {
			d.ArtifactType = m.Image.Config.MediaType
		}
	case m.Index != nil:
		d.ArtifactType, d.Annotations = m.Index.ArtifactType, m.Index.Annotations
	}
	return d
}

// maxReferrers bounds one referrers answer.
const maxReferrers = 10000

// Referrers lists the manifests of this repository whose subject is
// subject, ordered by digest, keeping only those of artifactType when it
// is not empty.
func (r *Repository) Referrers(ctx context.Context, subject digest.Digest, artifactType string) ([]ocispec.Descriptor, error) {
	if err := validDigest(subject); err != nil {
		return nil, err
	}
	dir := path.Join(r.root, dirReferrers, string(subject.Algorithm()), subject.Encoded())
	kids, err := r.ns.d.List(ctx, dir)
	if isNotFound(err) {
		return []ocispec.Descriptor{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("referrers of %s: %w", subject, err)
	}
	slices.Sort(kids)
	out := []ocispec.Descriptor{}
	for _, k := range kids {
		if len(out) >= maxReferrers {
			break
		}
		alg, hex, ok := strings.Cut(path.Base(k), "-")
		if !ok {
			continue
		}
		ref := digest.NewDigestFromEncoded(digest.Algorithm(alg), hex)
		if _, manifest, ok, err := r.link(ctx, ref); err != nil || !ok || !manifest {
			continue // deleted since; the entry goes with the next delete or GC
		}
		b, err := r.ns.d.GetContent(ctx, k)
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return nil, err
		}
		var d ocispec.Descriptor
		if json.Unmarshal(b, &d) != nil || d.Digest != ref {
			continue
		}
		if artifactType == "" || d.ArtifactType == artifactType {
			out = append(out, d)
		}
	}
	return out, nil
}
