package cli

import (
	"encoding/json"

	"github.com/spf13/cobra"
)

func (a *App) configCommand() *cobra.Command {
	var platform string
	cmd := &cobra.Command{
		Use:   "config REF",
		Short: "Print an image's config blob",
		Long: `Config prints the config blob of the image REF names, byte for byte as
stored (its sha256 is the config digest), after checking it against that
digest. For a multi-platform index, --platform names the image whose
config to print.

REF may be a registry reference, oci:DIR[:TAG], docker-archive:FILE[:REF],
or the path of a layout directory or an archive file. --json prints
{"reference", "digest", "mediaType", "size", "config"}, config being the
blob as a JSON value.`,
		Example: `  hoist config localhost:5000/team/app:v1 | jq .config.Env
  hoist config --platform linux/arm64 registry.example.com/library/alpine:3.19
  hoist config app.tar`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, desc, err := a.session.Config(cmd.Context(), args[0], platformOption(platform)...)
			if err != nil {
				return err
			}
			if a.jsonOut {
				doc := configDoc{Reference: args[0], Digest: desc.Digest.String(), MediaType: desc.MediaType, Size: desc.Size}
				if json.Valid(raw) {
					doc.Config = raw
				}
				return a.printJSON(doc)
			}
			_, err = a.stdout.Write(raw)
			return err
		},
	}
	cmd.Flags().StringVar(&platform, "platform", "", "from an index, print the config of the image for os/arch[/variant]")
	return cmd
}

// configDoc is hoist config --json.
type configDoc struct {
	Reference string          `json:"reference"`
	Digest    string          `json:"digest"`
	MediaType string          `json:"mediaType"`
	Size      int64           `json:"size"`
	Config    json.RawMessage `json:"config,omitempty"`
}
