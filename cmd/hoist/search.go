package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	lib "github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/legacy"
)

func (a *app) searchCommand() *cobra.Command {
	var index string
	var limit int
	cmd := &cobra.Command{
		Use:   "search TERM",
		Short: "Search an index for repositories",
		Long: `Search asks a v1 index (Docker Hub's by default, which still answers the v1
search API) for repositories matching TERM, and prints a table of name,
description, stars, and whether the image is official or automated.
--index names another index: a v1 registry host or URL
(https://registry.example.com/v1/).`,
		Example: `  hoist search alpine
  hoist search --index localhost:5000 --limit 5 --json busybox`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			page, err := a.session.Search(cmd.Context(), args[0], lib.WithIndex(index), lib.WithLimit(limit))
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(page)
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tDESCRIPTION\tSTARS\tOFFICIAL\tAUTOMATED")
			for _, r := range page.Results {
				fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\n", r.Name, oneLineText(r.Description, 60), r.StarCount, mark(r.IsOfficial), mark(r.IsAutomated || r.IsTrusted))
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&index, "index", legacy.DockerHubIndex, "the index to search: a v1 registry host or URL")
	cmd.Flags().IntVar(&limit, "limit", 25, "show at most N results")
	return cmd
}

func mark(b bool) string {
	if b {
		return "[OK]"
	}
	return ""
}

// oneLineText flattens s and cuts it to n runes with an ellipsis.
func oneLineText(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
