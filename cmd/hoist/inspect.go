package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
)

// inspection is what `hoist inspect` reports, also its --json form.
type inspection struct {
	Reference string              `json:"reference"`
	Digest    string              `json:"digest"`
	MediaType string              `json:"mediaType"`
	Size      int64               `json:"size"`
	Platforms []platformEntry     `json:"platforms,omitempty"`
	Image     *imageInspection    `json:"image,omitempty"`
	Legacy    *content.Schema1    `json:"legacy,omitempty"`
	Annots    map[string]string   `json:"annotations,omitempty"`
	Subject   *ocispec.Descriptor `json:"subject,omitempty"`
}

type platformEntry struct {
	Platform  string `json:"platform"`
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`
}

type imageInspection struct {
	Digest     string               `json:"digest,omitempty"` // when chosen from an index
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
	TotalSize  int64                `json:"totalSize"`
	History    int                  `json:"historyEntries"`
}

func (a *app) inspectCommand() *cobra.Command {
	var platform string
	cmd := &cobra.Command{
		Use:   "inspect REF",
		Short: "Show an image: digest, platforms, layers, config",
		Long: `Inspect shows what REF names: its digest and media type; for a
multi-platform index, the platforms and their manifests; for an image, its
platform, creation time, entrypoint and command, environment, labels and
exposed ports, and its layers with their sizes. With --platform, the image
of that platform is shown from an index.

REF may be a registry reference, oci:DIR[:TAG] or docker-archive:FILE[:REF].`,
		Example: `  hoist inspect localhost:5000/team/app:v1
  hoist inspect --platform linux/arm64 registry.example.com/library/alpine:3.19
  hoist inspect --json oci:./alpine:3.19`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r, err := a.resolveManifest(ctx, args[0], platform)
			if err != nil {
				return err
			}
			defer r.o.finish(true)
			m := r.root
			ins := &inspection{Reference: args[0], Digest: r.rootDesc.Digest.String(), MediaType: m.Descriptor.MediaType,
				Size: r.rootDesc.Size, Annots: m.Annotations(), Subject: m.Subject(), Legacy: m.Legacy}
			if m.Index != nil {
				for _, d := range m.Index.Manifests {
					p := "unknown"
					if d.Platform != nil {
						p = content.FormatPlatform(*d.Platform)
					}
					ins.Platforms = append(ins.Platforms, platformEntry{p, d.Digest.String(), d.MediaType, d.Size})
				}
			}
			if r.m.Image != nil {
				if ins.Image, err = inspectImage(ctx, r.o.r, r.m); err != nil {
					return err
				}
				if r.desc.Digest != r.rootDesc.Digest {
					ins.Image.Digest = r.desc.Digest.String()
				}
			}
			if a.jsonOut {
				return a.printJSON(ins)
			}
			a.printInspection(ins)
			return nil
		},
	}
	cmd.Flags().StringVar(&platform, "platform", "", "from an index, show the image of os/arch[/variant]")
	return cmd
}

func inspectImage(ctx context.Context, r store.Reader, m *content.Manifest) (*imageInspection, error) {
	img := &imageInspection{Config: m.Image.Config, Layers: m.Image.Layers}
	for _, l := range m.Image.Layers {
		img.TotalSize += l.Size
	}
	rc, err := r.Fetch(ctx, m.Image.Config)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", m.Image.Config.Digest, err)
	}
	defer rc.Close()
	raw, err := content.ReadCapped(rc, 8<<20, "image config")
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

func (a *app) printInspection(ins *inspection) {
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "reference:\t%s\n", ins.Reference)
	fmt.Fprintf(w, "digest:\t%s\n", ins.Digest)
	fmt.Fprintf(w, "media type:\t%s\n", ins.MediaType)
	if ins.Legacy != nil {
		fmt.Fprintf(w, "legacy:\tDocker schema 1 (read-only): %s:%s, %s, %d layers\n", ins.Legacy.Name, ins.Legacy.Tag, ins.Legacy.Architecture, len(ins.Legacy.FSLayers))
	}
	if len(ins.Platforms) > 0 {
		fmt.Fprintf(w, "platforms:\t%d\n", len(ins.Platforms))
	}
	for _, k := range sortedKeys(ins.Annots) {
		fmt.Fprintf(w, "annotation:\t%s=%s\n", k, ins.Annots[k])
	}
	if ins.Subject != nil {
		fmt.Fprintf(w, "subject:\t%s\n", ins.Subject.Digest)
	}
	img := ins.Image
	if img == nil {
		w.Flush()
		a.printPlatforms(ins)
		return
	}
	if img.Digest != "" {
		fmt.Fprintf(w, "image:\t%s\n", img.Digest)
	}
	fmt.Fprintf(w, "platform:\t%s\n", img.Platform)
	if img.Created != nil {
		fmt.Fprintf(w, "created:\t%s\n", img.Created.UTC().Format(time.RFC3339))
	}
	if img.Author != "" {
		fmt.Fprintf(w, "author:\t%s\n", img.Author)
	}
	fmt.Fprintf(w, "config:\t%s  %s\n", img.Config.Digest, img.Config.MediaType)
	if len(img.Entrypoint) > 0 {
		fmt.Fprintf(w, "entrypoint:\t%s\n", quoteArgs(img.Entrypoint))
	}
	if len(img.Cmd) > 0 {
		fmt.Fprintf(w, "cmd:\t%s\n", quoteArgs(img.Cmd))
	}
	if img.WorkingDir != "" {
		fmt.Fprintf(w, "workdir:\t%s\n", img.WorkingDir)
	}
	if img.User != "" {
		fmt.Fprintf(w, "user:\t%s\n", img.User)
	}
	for _, e := range img.Env {
		fmt.Fprintf(w, "env:\t%s\n", e)
	}
	for _, k := range sortedKeys(img.Labels) {
		fmt.Fprintf(w, "label:\t%s=%s\n", k, img.Labels[k])
	}
	if len(img.Ports) > 0 {
		fmt.Fprintf(w, "ports:\t%s\n", strings.Join(img.Ports, " "))
	}
	fmt.Fprintf(w, "layers:\t%d, %s in all\n", len(img.Layers), content.HumanSize(img.TotalSize))
	w.Flush()
	for _, l := range img.Layers {
		fmt.Fprintf(a.stdout, "  %s  %9s  %s\n", l.Digest, content.HumanSize(l.Size), l.MediaType)
	}
	a.printPlatforms(ins)
}

func (a *app) printPlatforms(ins *inspection) {
	if len(ins.Platforms) == 0 {
		return
	}
	fmt.Fprintln(a.stdout, "platforms of the index:")
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, p := range ins.Platforms {
		fmt.Fprintf(w, "  %s\t%s\t%9s\n", p.Platform, p.Digest, content.HumanSize(p.Size))
	}
	w.Flush()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, s := range args {
		if strings.ContainsAny(s, " \t\"'") || s == "" {
			q[i] = fmt.Sprintf("%q", s)
		} else {
			q[i] = s
		}
	}
	return strings.Join(q, " ")
}
