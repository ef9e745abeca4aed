package copy

import (
	"encoding/json"
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
)

// selectPlatforms returns the index entries matching the wanted platforms,
// in the order the platforms were asked for.
func (c *Copier) selectPlatforms(m *content.Manifest) ([]ocispec.Descriptor, error) {
	var out []ocispec.Descriptor
	for _, want := range c.o.platforms {
		d, ok := content.SelectPlatform(m.Index, want)
		if !ok {
			var have []string
			for _, d := range m.Index.Manifests {
				if d.Platform != nil {
					have = append(have, content.FormatPlatform(*d.Platform))
				}
			}
			return nil, fmt.Errorf("index %s has no image for platform %s; it has %s",
				m.Descriptor.Digest, content.FormatPlatform(want), strings.Join(have, ", "))
		}
		out = append(out, d)
	}
	return out, nil
}

// filteredIndex rewrites n, an index, to list only the selected manifests.
// Every other field, and every kept entry, is carried over as it was.
func filteredIndex(n *node, sel []ocispec.Descriptor) (*node, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(n.raw, &doc); err != nil {
		return nil, fmt.Errorf("index %s: %w", n.desc.Digest, err)
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(doc["manifests"], &entries); err != nil {
		return nil, fmt.Errorf("index %s: manifests: %w", n.desc.Digest, err)
	}
	keep := map[string]bool{}
	for _, d := range sel {
		keep[d.Digest.String()] = true
	}
	var kept []json.RawMessage
	for i, e := range entries {
		if keep[n.m.Index.Manifests[i].Digest.String()] {
			kept = append(kept, e)
		}
	}
	b, err := json.Marshal(kept)
	if err != nil {
		return nil, err
	}
	doc["manifests"] = b
	return rewrite(n, doc)
}

// rewrite replaces n's bytes with doc, re-decoding and re-describing it.
func rewrite(n *node, doc map[string]json.RawMessage) (*node, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	m, err := content.Decode("", raw)
	if err != nil {
		return nil, fmt.Errorf("rewritten %s: %w", n.desc.Digest, err)
	}
	out := *n
	out.raw, out.m = raw, m
	out.desc = content.NewDescriptor(m.Descriptor.MediaType, raw)
	out.desc.Platform, out.desc.Annotations = n.desc.Platform, n.desc.Annotations
	return &out, nil
}
