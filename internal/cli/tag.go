package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	lib "github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/errdef"
)

func (a *App) tagCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "tag SRC NEWTAG",
		Short: "Give an image in a registry another tag",
		Long: `Tag makes NEWTAG name the manifest SRC names, in the same repository of
the same registry. Only the manifest is written again, under the new tag;
no blob moves, so the image keeps its digest. NEWTAG is a tag (v2) or a
full reference to the same repository. To put the image in another
repository, use hoist copy, which mounts the blobs within a registry.

Prints the new reference with its digest; -q prints only the digest,
--json {"source", "target", "digest"}.`,
		Example: `  hoist tag localhost:5000/team/app:v1.2.3 v1
  hoist tag localhost:5000/team/app@sha256:... latest
  hoist tag registry.example.com/team/app:rc registry.example.com/team/app:stable`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := a.session.Tag(cmd.Context(), args[0], args[1])
			if errors.Is(err, lib.ErrNotRegistry) {
				return usagef("tag works on registry references, not %s", args[0])
			}
			if err != nil {
				return err
			}
			target := ref.Name() + ":" + ref.Tag
			switch {
			case a.jsonOut:
				return a.printJSON(tagDoc{Source: args[0], Target: target, Digest: ref.Digest.String()})
			case a.quiet:
				fmt.Fprintln(a.stdout, ref.Digest)
			default:
				fmt.Fprintf(a.stdout, "Tagged %s@%s\n", target, ref.Digest)
			}
			return nil
		},
	}
}

// tagDoc is hoist tag --json.
type tagDoc struct {
	Source string `json:"source"`
	Target string `json:"target"`
	Digest string `json:"digest"`
}

func (a *App) untagCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "untag REPOSITORY:TAG",
		Short: "Remove one tag from a registry, keeping the image",
		Long: `Untag removes TAG from REPOSITORY; the manifest stays, by digest and under
its other tags. It needs a registry that deletes tags (DELETE by tag:
distribution 3, zot, hoist serve, go-containerregistry's registry).
Registries that delete only manifests (distribution 2.x, most hosted
ones) refuse, and untag says so and exits 1; hoist delete removes the
manifest with all its tags there.

untag checks that the tag is gone afterwards, and warns when the registry
deleted the manifest along with the tag. --json prints {"untagged",
"digest", "manifestDeleted"}.`,
		Example: `  hoist untag localhost:5000/team/app:rc1
  hoist untag --json registry.example.com/team/app:tmp-1234`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := a.session.Untag(cmd.Context(), args[0])
			switch {
			case errors.Is(err, lib.ErrNotRegistry):
				return usagef("untag works on registry references, not %s", args[0])
			case errors.Is(err, errdef.ErrUnsupported):
				return fmt.Errorf("%w; hoist delete %s deletes the manifest with every tag naming it", err, args[0])
			case err != nil:
				return err
			}
			tagged := res.Untagged.Name() + ":" + res.Untagged.Tag
			if res.ManifestDeleted {
				a.warn(fmt.Errorf("the registry deleted the manifest %s@%s along with the tag, and every other tag naming it", res.Untagged.Name(), res.Untagged.Digest))
			}
			switch {
			case a.jsonOut:
				return a.printJSON(untagDoc{Untagged: tagged, Digest: res.Untagged.Digest.String(), ManifestDeleted: res.ManifestDeleted})
			case !a.quiet:
				fmt.Fprintf(a.stdout, "Untagged %s (was %s)\n", tagged, res.Untagged.Digest)
			}
			return nil
		},
	}
}

// untagDoc is hoist untag --json.
type untagDoc struct {
	Untagged        string `json:"untagged"`
	Digest          string `json:"digest"`
	ManifestDeleted bool   `json:"manifestDeleted"`
}
