package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	lib "github.com/hoist-dev/hoist"
)

func (a *App) tagsCommand() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "tags REPOSITORY",
		Short: "List the tags of a repository",
		Long: `Tags lists the tags of REPOSITORY, one per line, in the order the registry
returns them: hoist does not sort them. The distribution spec asks for
lexical order, and distribution, zot and hoist serve keep to it, but not
every registry does. The listing follows the registry's pagination to the
end or to --limit (the first N in the registry's order). A v1 registry's
tags and an OCI layout's (oci:DIR, its index.json) are listed sorted.
--json prints {"repository", "tags"}; pipe to sort for a sorted list.`,
		Example: `  hoist tags localhost:5000/team/app
  hoist tags --limit 10 --json registry.example.com/library/alpine
  hoist tags oci:./alpine`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tags, err := a.session.Tags(cmd.Context(), args[0], lib.WithLimit(limit))
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(map[string]any{"repository": args[0], "tags": tags})
			}
			for _, t := range tags {
				fmt.Fprintln(a.stdout, t)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 0, "list at most N tags (0: all)")
	return cmd
}
