package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	lib "github.com/hoist-dev/hoist"
)

func (a *app) deleteCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "delete REF",
		Short: "Delete a manifest from a registry",
		Long: `Delete removes the manifest REF names from its registry. A tag is first
resolved to its digest, and the manifest is deleted by digest, as skopeo
does: registries delete manifests, not tags, so every tag pointing at that
manifest goes with it. The blobs stay until the registry garbage-collects.
The registry must allow deletion (distribution: storage.delete.enabled).`,
		Example: `  hoist delete localhost:5000/team/app:old
  hoist delete localhost:5000/team/app@sha256:...`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := a.session.Delete(cmd.Context(), args[0])
			if errors.Is(err, lib.ErrNotRegistry) {
				return usagef("delete works on registry references, not %s", args[0])
			}
			if err != nil {
				return err
			}
			switch {
			case a.jsonOut:
				return a.printJSON(map[string]any{"deleted": ref.Name() + "@" + ref.Digest.String()})
			case !a.quiet:
				fmt.Fprintf(a.stdout, "Deleted %s@%s\n", ref.Name(), ref.Digest)
			}
			return nil
		},
	}
}
