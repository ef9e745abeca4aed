package hoist

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
)

// Inspection is what Inspect reports of an image or index. Its JSON form is
// what `hoist inspect --json` prints.
type Inspection struct {
	// Reference is the location as given.
	Reference string `json:"reference"`
	// Digest, MediaType and Size describe the manifest or index itself.
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`
	// Platforms lists an index's manifests.
	Platforms []PlatformEntry `json:"platforms,omitempty"`
	// Image describes the image: the manifest's, or with WithPlatforms the
	// image of that platform from the index.
	Image *ImageInspection `json:"image,omitempty"`
	// Legacy is a Docker schema 1 manifest's content.
	Legacy *content.Schema1 `json:"legacy,omitempty"`
	// Annotations are the manifest's or index's annotations.
	Annotations map[string]string `json:"annotations,omitempty"`
	// Subject is what the manifest refers to (OCI 1.1 referrers).
	Subject *ocispec.Descriptor `json:"subject,omitempty"`
}

// PlatformEntry is one manifest of an index.
type PlatformEntry struct {
	// Platform is os/arch[/variant], or "unknown".
	Platform  string `json:"platform"`
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`
}

// ImageInspection is an image's configuration and layers.
type ImageInspection struct {
	// Digest is the image manifest's, when chosen from an index.
	Digest string `json:"digest,omitempty"`
	// Platform is the config's os/arch[/variant]; "unknown" when it names
	// none, and "n/a (...)" for an artifact whose config is not an image
	// config.
	Platform   string               `json:"platform"`
	Created    *time.Time           `json:"created,omitempty"`
	Author     string               `json:"author,omitempty"`
	Config     ocispec.Descriptor   `json:"config"`
	Entrypoint []string             `json:"entrypoint,omitempty"`
	Cmd        []string             `json:"cmd,omitempty"`
	WorkingDir string               `json:"workingDir,omitempty"`
	User       string               `json:"user,omitempty"`
	Env        []string             `json:"env,omitempty"`
	Labels     map[string]string    `json:"labels,omitempty"`
	Ports      []string             `json:"exposedPorts,omitempty"`
	Layers     []ocispec.Descriptor `json:"layers"`
	// TotalSize is the layers' size added up (compressed).
	TotalSize int64 `json:"totalSize"`
	// History is how many history entries the config has.
	History int `json:"historyEntries"`
}

// maxConfigSize caps an image config read by Inspect.
const maxConfigSize = 8 << 20

// Inspect describes what ref names: its digest and media type; for an
// index, its platforms; for an image, its configuration and layers. With
// WithPlatforms and an index, the image of that platform is described too.
func (s *Session) Inspect(ctx context.Context, ref string, opts ...Option) (*Inspection, error) {
	r, err := s.resolve(ctx, ref, opts)
	if err != nil {
		return nil, err
	}
	defer r.st.Close()
	m := r.root
	ins := &Inspection{Reference: ref, Digest: r.rootDesc.Digest.String(), MediaType: m.Descriptor.MediaType,
		Size: r.rootDesc.Size, Annotations: m.Annotations(), Subject: m.Subject(), Legacy: m.Legacy}
	if m.Index != nil {
		for _, d := range m.Index.Manifests {
			p := "unknown"
			if d.Platform != nil {
				p = content.FormatPlatform(*d.Platform)
			}
			ins.Platforms = append(ins.Platforms, PlatformEntry{p, d.Digest.String(), d.MediaType, d.Size})
		}
	}
	if r.m.Image != nil {
		if ins.Image, err = inspectImage(ctx, r.st.Reader, r.m); err != nil {
			return nil, err
		}
		if r.desc.Digest != r.rootDesc.Digest {
			ins.Image.Digest = r.desc.Digest.String()
		}
	}
	return ins, nil
}

func inspectImage(ctx context.Context, r store.Reader, m *content.Manifest) (*ImageInspection, error) {
	img := &ImageInspection{Config: m.Image.Config, Layers: m.Image.Layers}
	for _, l := range m.Image.Layers {
		img.TotalSize += l.Size
	}
	rc, err := r.Fetch(ctx, m.Image.Config)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", m.Image.Config.Digest, err)
	}
	defer rc.Close()
	raw, err := content.ReadCapped(rc, maxConfigSize, "image config")
	if err != nil {
		return nil, err
	}
	var cfg ocispec.Image
	if err := json.Unmarshal(raw, &cfg); err != nil {
		// An artifact's config need not be an image config: show the rest.
		img.Platform = "n/a (config is " + m.Image.Config.MediaType + ")"
		return img, nil
	}
	img.Platform = "unknown"
	if cfg.OS != "" {
		img.Platform = content.FormatPlatform(cfg.Platform)
	}
	if cfg.Created != nil && !cfg.Created.IsZero() {
		img.Created = cfg.Created
	}
	img.Author = cfg.Author
	c := cfg.Config
	img.Entrypoint, img.Cmd, img.WorkingDir, img.User, img.Env, img.Labels = c.Entrypoint, c.Cmd, c.WorkingDir, c.User, c.Env, c.Labels
	for p := range c.ExposedPorts {
		img.Ports = append(img.Ports, p)
	}
	sort.Strings(img.Ports)
	img.History = len(cfg.History)
	return img, nil
}
