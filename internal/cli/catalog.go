package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	lib "github.com/hoist-dev/hoist"
)

func (a *App) catalogCommand() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "catalog REGISTRY",
		Short: "List the repositories of a registry",
		Long: `Catalog lists the repositories of REGISTRY (host or host:port) with the
v2 catalog API, following its pagination to the end or to --limit. Many
public registries refuse the catalog; hoist then says what they answered.`,
		Example: `  hoist catalog localhost:5000
  hoist catalog --limit 100 --json registry.example.com`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			repos, err := a.session.Catalog(cmd.Context(), args[0], lib.WithLimit(limit))
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(map[string]any{"registry": strings.TrimSuffix(args[0], "/"), "repositories": repos})
			}
			for _, r := range repos {
				fmt.Fprintln(a.stdout, r)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 0, "list at most N repositories (0: all)")
	return cmd
}
