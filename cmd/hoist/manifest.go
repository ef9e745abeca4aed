package main

import (
	"github.com/spf13/cobra"
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
			raw, err := a.session.Manifest(cmd.Context(), args[0], platformOption(platform)...)
			if err != nil {
				return err
			}
			_, err = a.stdout.Write(raw)
			return err
		},
	}
	cmd.Flags().StringVar(&platform, "platform", "", "from an index, print the manifest of os/arch[/variant]")
	return cmd
}
