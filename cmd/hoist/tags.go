package main

import (
	"fmt"

	"github.com/spf13/cobra"

	lib "github.com/hoist-dev/hoist"
)

func (a *app) tagsCommand() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "tags REPOSITORY",
		Short: "List the tags of a repository",
		Long: `Tags lists the tags of REPOSITORY, one per line, in the order the registry
keeps them (lexical for v2 registries), following the registry's pagination
to the end or to --limit. A v1 registry's tags are listed sorted.
REPOSITORY may also be an OCI layout (oci:DIR), whose index.json tags are
listed.`,
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
