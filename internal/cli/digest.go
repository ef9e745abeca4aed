package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *App) digestCommand() *cobra.Command {
	var platform string
	cmd := &cobra.Command{
		Use:   "digest REF",
		Short: "Print the digest of an image or index",
		Long: `Digest prints the digest of the manifest or index REF names. A registry is
asked with one HEAD request; nothing is downloaded. With --platform and an
index, the digest of that platform's image manifest is printed instead
(the index is read to find it).

REF may be a registry reference, oci:DIR[:TAG], docker-archive:FILE[:REF],
or the path of a layout directory or an archive file. --json prints
{"reference", "digest"}.`,
		Example: `  hoist digest localhost:5000/team/app:v1
  hoist digest --platform linux/arm64 registry.example.com/library/alpine:3.19
  hoist pull "localhost:5000/team/app@$(hoist digest localhost:5000/team/app:v1)"`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := a.session.Digest(cmd.Context(), args[0], platformOption(platform)...)
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(digestDoc{Reference: args[0], Platform: platform, Digest: d.String()})
			}
			fmt.Fprintln(a.stdout, d)
			return nil
		},
	}
	cmd.Flags().StringVar(&platform, "platform", "", "from an index, print the digest of the image for os/arch[/variant]")
	return cmd
}

// digestDoc is hoist digest --json.
type digestDoc struct {
	Reference string `json:"reference"`
	Platform  string `json:"platform,omitempty"`
	Digest    string `json:"digest"`
}
