package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hoist-dev/hoist/content"
)

func (a *app) manifestCommand() *cobra.Command {
	var platform string
	cmd := &cobra.Command{
		Use:   "manifest REF",
		Short: "Print a manifest's exact bytes",
		Long: `Manifest prints the manifest or index REF names, byte for byte as the
registry (or layout, or archive) stores it: nothing is re-formatted, so
its sha256 is the manifest's digest. With --platform and an index, the
manifest of that platform is printed instead.`,
		Example: `  hoist manifest localhost:5000/team/app:v1 | sha256sum
  hoist manifest --platform linux/arm64 registry.example.com/library/alpine
  hoist manifest oci:./alpine:3.19`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			l, err := parseLocation(args[0])
			if err != nil {
				return err
			}
			o, err := a.openReader(ctx, l)
			if err != nil {
				return err
			}
			defer o.finish(true)
			desc, err := o.r.Resolve(ctx, srcRef(l))
			if err != nil {
				return err
			}
			m, err := fetchManifest(ctx, o.r, desc)
			if err != nil {
				return err
			}
			if platform != "" {
				if m.Index == nil {
					return fmt.Errorf("%s is an image manifest, not an index: --platform does not apply", args[0])
				}
				p, err := content.ParsePlatform(platform)
				if err != nil {
					return usageError{err}
				}
				d, ok := content.SelectPlatform(m.Index, p)
				if !ok {
					return fmt.Errorf("%s has no manifest for %s", args[0], platform)
				}
				if m, err = fetchManifest(ctx, o.r, d); err != nil {
					return err
				}
			}
			_, err = a.stdout.Write(m.Raw)
			return err
		},
	}
	cmd.Flags().StringVar(&platform, "platform", "", "from an index, print the manifest of os/arch[/variant]")
	return cmd
}
