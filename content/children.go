package content

import (
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Role says how a manifest refers to a child.
type Role int

// The roles a child can play.
const (
	// RoleConfig is an image manifest's config blob.
	RoleConfig Role = iota + 1
	// RoleLayer is a layer blob of an image manifest (or a schema 1 blobSum).
	RoleLayer
	// RoleManifest is a manifest listed in an index.
	RoleManifest
	// RoleSubject is the manifest a referrer points back at. It is a
	// parent in the graph rather than a part: copying an artifact does not
	// copy its subject.
	RoleSubject
)

// String returns "config", "layer", "manifest" or "subject".
func (r Role) String() string {
	switch r {
	case RoleConfig:
		return "config"
	case RoleLayer:
		return "layer"
	case RoleManifest:
		return "manifest"
	case RoleSubject:
		return "subject"
	}
	return "unknown"
}

// Child is one descriptor a manifest refers to.
type Child struct {
	Role       Role
	Descriptor ocispec.Descriptor
}

// Children lists what m refers to, in document order: an image manifest's
// config then layers, an index's manifests, and last the subject if there
// is one. A schema 1 manifest lists its layer blobs oldest first, each
// once, with the Docker layer media type and Size -1, since schema 1 does
// not record sizes. The result is a new slice; descriptors are copies.
func Children(m *Manifest) []Child {
	var out []Child
	switch {
	case m.Image != nil:
		out = append(out, Child{RoleConfig, m.Image.Config})
		for _, l := range m.Image.Layers {
			out = append(out, Child{RoleLayer, l})
		}
	case m.Index != nil:
		for _, d := range m.Index.Manifests {
			out = append(out, Child{RoleManifest, d})
		}
	case m.Legacy != nil:
		seen := map[string]bool{}
		for i := len(m.Legacy.FSLayers) - 1; i >= 0; i-- {
			d := m.Legacy.FSLayers[i].BlobSum
			if seen[d.String()] {
				continue
			}
			seen[d.String()] = true
			out = append(out, Child{RoleLayer, ocispec.Descriptor{MediaType: MediaTypeDockerLayer, Digest: d, Size: -1}})
		}
	}
	if s := m.Subject(); s != nil {
		out = append(out, Child{RoleSubject, *s})
	}
	return out
}
