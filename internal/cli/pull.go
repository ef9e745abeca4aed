package cli

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	lib "github.com/hoist-dev/hoist"
)

func (a *App) pullCommand() *cobra.Command {
	var f copyFlags
	cmd := &cobra.Command{
		Use:   "pull REF [DEST]",
		Short: "Download an image from a registry to an OCI layout or a docker archive",
		Long: `Pull copies the image REF names from its registry to DEST: an OCI image
layout directory (oci:DIR[:TAG], or a plain directory path) or a docker save
tarball (docker-archive:FILE[:REF], or a path ending in .tar). The default
DEST is the layout ./NAME, NAME being the repository's last path component,
tagged with REF's tag.

Every platform of a multi-platform image is pulled unless --platform picks
some. Blobs already in the layout are skipped; a pull that was interrupted
resumes its partial downloads when run again. Nothing partial ever appears
under the layout's blobs/, and the tag is written last.

On a terminal, progress bars show each blob and the total; otherwise one
line per finished blob goes to stderr. The result (destination and digest)
goes to stdout; -q prints only the digest, --json a JSON document.`,
		Example: `  hoist pull localhost:5000/team/app:v1
  hoist pull --platform linux/arm64 registry.example.com/library/alpine:3.19 oci:./alpine:3.19
  hoist pull localhost:5000/team/app:v1 app.tar`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			dest := ""
			if len(args) == 2 {
				dest = args[1]
			}
			err := a.runCopy(cmd.Context(), f, func(ctx context.Context, opts ...lib.Option) (*lib.CopyResult, error) {
				return a.session.Pull(ctx, args[0], dest, opts...)
			})
			if errors.Is(err, lib.ErrNotRegistry) {
				return usagef("pull reads from a registry; to copy %s, use hoist copy", args[0])
			}
			return err
		},
	}
	f.register(cmd.Flags(), false)
	return cmd
}

func (a *App) pushCommand() *cobra.Command {
	var f copyFlags
	cmd := &cobra.Command{
		Use:   "push SRC REF",
		Short: "Upload an image from an OCI layout or a docker archive to a registry",
		Long: `Push copies the image in SRC, an OCI image layout (oci:DIR[:TAG], or a
directory path) or a docker save tarball (docker-archive:FILE[:REF], or a
.tar path), to the registry repository REF names, and tags it with REF's
tag (latest when REF has none).

Blobs the registry has are skipped, blobs in another repository of the same
registry are mounted, and the manifest is written only after its blobs, so
an interrupted push never leaves a tag pointing at missing content.`,
		Example: `  hoist push oci:./app:v1 localhost:5000/team/app:v1
  hoist push app.tar registry.example.com/team/app:v1`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			err := a.runCopy(cmd.Context(), f, func(ctx context.Context, opts ...lib.Option) (*lib.CopyResult, error) {
				return a.session.Push(ctx, args[0], args[1], opts...)
			})
			if errors.Is(err, lib.ErrNotRegistry) {
				return usagef("push writes to a registry; to copy to %s, use hoist copy", args[1])
			}
			return err
		},
	}
	f.register(cmd.Flags(), false)
	f.registerChunkSize(cmd.Flags())
	return cmd
}

func (a *App) copyCommand() *cobra.Command {
	var f copyFlags
	cmd := &cobra.Command{
		Use:   "copy SRC DST",
		Short: "Copy an image between registries, layouts and archives",
		Long: `Copy copies the image SRC names to DST. Either may be a registry reference
(REF or docker://REF), an OCI image layout (oci:DIR[:TAG]) or a docker save
tarball (docker-archive:FILE[:REF]).

Between registries the blobs stream from one to the other without touching
the disk. Within one registry they are mounted, not copied, and a blob seen
earlier in another repository of the target registry (the blob-location
cache in ~/.cache/hoist) is mounted from there. Blobs the target has are
skipped. Manifests are written after their blobs and the tag last.

With --all-tags, every tag of the SRC repository is copied to the same tag
in DST; blobs shared between tags move once.`,
		Example: `  hoist copy localhost:5000/team/app:v1 registry.example.com/mirror/app:v1
  hoist copy --all-tags localhost:5000/team/app registry.example.com/mirror/app
  hoist copy --format oci docker-archive:app.tar oci:./app:v1`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runCopy(cmd.Context(), f, func(ctx context.Context, opts ...lib.Option) (*lib.CopyResult, error) {
				return a.session.Copy(ctx, args[0], args[1], opts...)
			})
		},
	}
	f.register(cmd.Flags(), true)
	f.registerChunkSize(cmd.Flags())
	return cmd
}
