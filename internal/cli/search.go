package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	lib "github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/legacy"
)

func (a *App) searchCommand() *cobra.Command {
	var index string
	var limit int
	cmd := &cobra.Command{
		Use:   "search TERM",
		Short: "Search an index for repositories",
		Long: `Search asks a v1 index (Docker Hub's by default, which still answers the v1
search API) for repositories matching TERM, and prints a table of name,
description, stars, and whether the image is official or automated; -q
prints only the names.
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
			switch {
			case a.jsonOut:
				return a.printJSON(newSearchDoc(page))
			case a.quiet:
				for _, r := range page.Results {
					fmt.Fprintln(a.stdout, r.Name)
				}
				return nil
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

// searchDoc is hoist search --json: the index's answer in hoist's key
// style (the v1 API's own is snake_case).
type searchDoc struct {
	Query      string         `json:"query"`
	NumResults int            `json:"numResults"`
	Results    []searchResult `json:"results"`
}

type searchResult struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	StarCount   int    `json:"starCount"`
	IsOfficial  bool   `json:"isOfficial"`
	IsAutomated bool   `json:"isAutomated"`
}

func newSearchDoc(p *legacy.SearchPage) searchDoc {
	d := searchDoc{Query: p.Query, NumResults: p.NumResults, Results: []searchResult{}}
	for _, r := range p.Results {
		d.Results = append(d.Results, searchResult{r.Name, r.Description, r.StarCount, r.IsOfficial, r.IsAutomated || r.IsTrusted})
	}
	return d
}
