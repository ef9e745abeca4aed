package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	lib "github.com/hoist-dev/hoist"
)

func (a *App) deleteCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "delete REF",
		Short: "Delete a manifest, with every tag naming it, from a registry",
		Long: `Delete removes the manifest REF names from its registry, together with
every tag that names it. A tag is first resolved to its digest, and the
other tags of the repository naming the same manifest are listed; then the
manifest is deleted by digest, as skopeo does.

Registries differ in what deleting a digest removes: distribution drops
the tags with it, go-containerregistry's registry keeps them. So delete
checks afterwards, removes a tag the registry kept with DELETE by tag, and
exits 1 naming what still resolves when the registry will not let go of
it. It prints the digest deleted and the tags that went with it; -q
prints nothing, --json {"deleted", "tags", "untagged"}.

The blobs stay until the registry garbage-collects. The registry must
allow deletion (distribution: storage.delete.enabled). To remove one tag
and keep the image, use hoist untag.`,
		Example: `  hoist delete localhost:5000/team/app:old
  hoist delete localhost:5000/team/app@sha256:...`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := a.session.Delete(cmd.Context(), args[0], lib.WithWarnings(a.warn))
			var re *lib.RemainsError
			switch {
			case errors.Is(err, lib.ErrNotRegistry):
				return usagef("delete works on registry references, not %s", args[0])
			case errors.As(err, &re) && len(re.Result.Untagged) > 0:
				return fmt.Errorf("%w (tags removed one by one: %s)", err, strings.Join(re.Result.Untagged, ", "))
			case err != nil:
				return err
			}
			deleted := res.Deleted.Name() + "@" + res.Deleted.Digest.String()
			switch {
			case a.jsonOut:
				return a.printJSON(deleteDoc{Deleted: deleted, Tags: nonNil(res.Tags), Untagged: nonNil(res.Untagged)})
			case a.quiet:
				return nil
			}
			fmt.Fprintf(a.stdout, "Deleted %s\n", deleted)
			if len(res.Tags) > 0 {
				fmt.Fprintf(a.stdout, "Removed tags: %s\n", strings.Join(res.Tags, ", "))
			}
			if len(res.Untagged) > 0 {
				fmt.Fprintf(a.stdout, "(the registry kept %s after the manifest went; hoist deleted them by tag)\n", strings.Join(res.Untagged, ", "))
			}
			return nil
		},
	}
}

// deleteDoc is hoist delete --json.
type deleteDoc struct {
	Deleted  string   `json:"deleted"`
	Tags     []string `json:"tags"`
	Untagged []string `json:"untagged"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
