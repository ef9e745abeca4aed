package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hoist-dev/hoist/store"
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
			ctx := cmd.Context()
			l, err := parseLocation(args[0])
			if err != nil {
				return err
			}
			if l.Kind != store.Registry {
				return usagef("delete works on registry references, not %s", l.Kind)
			}
			if err := a.requireV2(ctx, l.Ref.Registry, "manifest deletion"); err != nil {
				return err
			}
			repo, err := a.openRemote(l.Ref)
			if err != nil {
				return err
			}
			desc, err := repo.Resolve(ctx, "")
			if err != nil {
				return err
			}
			if err := repo.Distribution().DeleteManifest(ctx, desc.Digest.String()); err != nil {
				return err
			}
			switch {
			case a.jsonOut:
				return a.printJSON(map[string]any{"deleted": l.Ref.Name() + "@" + desc.Digest.String()})
			case !a.quiet:
				fmt.Fprintf(a.stdout, "Deleted %s@%s\n", l.Ref.Name(), desc.Digest)
			}
			return nil
		},
	}
}
