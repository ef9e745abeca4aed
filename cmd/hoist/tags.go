package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hoist-dev/hoist/distribution"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/remote"
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
			ctx := cmd.Context()
			l, err := parseLocation(args[0])
			if err != nil {
				return err
			}
			var tags []string
			isV2 := false
			if l.Kind == store.Registry {
				p, err := a.protocol(ctx, l.Ref.Registry)
				if err != nil {
					return err
				}
				isV2 = p == remote.V2
			}
			if isV2 {
				name, err := reference.ParseName(l.Ref.Name())
				if err != nil {
					return usageError{err}
				}
				repo, err := a.openRemote(name)
				if err != nil {
					return err
				}
				tags, err = repo.Distribution().Tags(ctx, distribution.ListOptions{Limit: limit})
				if err != nil {
					return err
				}
			} else {
				o, err := a.openReader(ctx, l)
				if err != nil {
					return err
				}
				defer o.finish(true)
				tl, ok := o.r.(store.TagLister)
				if !ok {
					return fmt.Errorf("%s cannot list tags", l)
				}
				if tags, err = tl.Tags(ctx, store.Page{N: limit}); err != nil {
					return err
				}
			}
			if a.jsonOut {
				if tags == nil {
					tags = []string{}
				}
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
