package cli

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	lib "github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/content"
)

func (a *App) inspectCommand() *cobra.Command {
	var platform string
	cmd := &cobra.Command{
		Use:   "inspect REF",
		Short: "Show an image: digest, platforms, layers, config",
		Long: `Inspect shows what REF names: its digest and media type; for a
multi-platform index, the platforms and their manifests; for an image, its
platform, creation time, entrypoint and command, environment, labels and
exposed ports, and its layers with their sizes. With --platform, the image
of that platform is shown from an index.

REF may be a registry reference, oci:DIR[:TAG], docker-archive:FILE[:REF],
or the path of a layout directory or an archive file. -q prints only the
digest, --json the whole report (docs/json.md).`,
		Example: `  hoist inspect localhost:5000/team/app:v1
  hoist inspect --platform linux/arm64 registry.example.com/library/alpine:3.19
  hoist inspect --json oci:./alpine:3.19`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ins, err := a.session.Inspect(cmd.Context(), args[0], platformOption(platform)...)
			if err != nil {
				return err
			}
			switch {
			case a.jsonOut:
				return a.printJSON(ins)
			case a.quiet:
				fmt.Fprintln(a.stdout, ins.Digest)
				return nil
			}
			a.printInspection(ins)
			return nil
		},
	}
	cmd.Flags().StringVar(&platform, "platform", "", "from an index, show the image of os/arch[/variant]")
	return cmd
}

func (a *App) printInspection(ins *lib.Inspection) {
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
	for _, k := range sortedKeys(ins.Annotations) {
		fmt.Fprintf(w, "annotation:\t%s=%s\n", k, ins.Annotations[k])
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

func (a *App) printPlatforms(ins *lib.Inspection) {
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

// platformOption is the option of a --platform flag ("" for none).
func platformOption(platform string) []lib.Option {
	if platform == "" {
		return nil
	}
	return []lib.Option{lib.WithPlatforms(platform)}
}
