package cli

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/hoist-dev/hoist/content"
)

func (a *App) manifestCommand() *cobra.Command {
	var platform string
	cmd := &cobra.Command{
		Use:   "manifest REF",
		Short: "Print a manifest's exact bytes",
		Long: `Manifest prints the manifest or index REF names, byte for byte as the
registry (or layout, or archive) stores it: nothing is re-formatted, so
its sha256 is the manifest's digest. With --platform and an index, the
manifest of that platform is printed instead. --json wraps it in
{"reference", "digest", "size", "manifest"} (re-indented there; the digest
is of the exact bytes).`,
		Example: `  hoist manifest localhost:5000/team/app:v1 | sha256sum
  hoist manifest --platform linux/arm64 registry.example.com/library/alpine
  hoist manifest oci:./alpine:3.19`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := a.session.Manifest(cmd.Context(), args[0], platformOption(platform)...)
			if err != nil {
				return err
			}
			if a.jsonOut {
				d := content.NewDescriptor("", raw)
				return a.printJSON(manifestDoc{Reference: args[0], Platform: platform, Digest: d.Digest.String(), Size: d.Size, Manifest: raw})
			}
			_, err = a.stdout.Write(raw)
			return err
		},
	}
	cmd.Flags().StringVar(&platform, "platform", "", "from an index, print the manifest of os/arch[/variant]")
	return cmd
}

// manifestDoc is hoist manifest --json.
type manifestDoc struct {
	Reference string          `json:"reference"`
	Platform  string          `json:"platform,omitempty"`
	Digest    string          `json:"digest"`
	Size      int64           `json:"size"`
	Manifest  json.RawMessage `json:"manifest"`
}
