package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hoist-dev/hoist/distribution"
	"github.com/hoist-dev/hoist/reference"
)

func (a *app) catalogCommand() *cobra.Command {
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
			host := strings.TrimSuffix(args[0], "/")
			if strings.Contains(host, "/") {
				return usagef("catalog takes a registry host such as localhost:5000, not %q", args[0])
			}
			if err := a.requireV2(cmd.Context(), host, "catalog"); err != nil {
				return err
			}
			reg, err := distribution.NewRegistry(reference.APIHost(host), distribution.WithHTTPClient(a.registryClient(reference.APIHost(host))))
			if err != nil {
				return usageError{err}
			}
			repos, err := reg.Catalog(cmd.Context(), distribution.ListOptions{Limit: limit})
			if err != nil {
				return err
			}
			if a.jsonOut {
				if repos == nil {
					repos = []string{}
				}
				return a.printJSON(map[string]any{"registry": host, "repositories": repos})
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
