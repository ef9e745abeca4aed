package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	lib "github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/content"
)

// parseAnnotations reads --annotation KEY=VALUE flags.
func parseAnnotations(flags []string) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, usagef("--annotation %q: want KEY=VALUE, e.g. --annotation org.opencontainers.image.description=\"release notes\"", f)
		}
		out[k] = v
	}
	return out, nil
}

func (a *App) attachCommand() *cobra.Command {
	var artifactType string
	var annotations, platforms []string
	cmd := &cobra.Command{
		Use:   "attach REF --artifact-type TYPE [FILE[:MEDIATYPE]]...",
		Short: "Attach files to an image as a referrer (an SBOM, a signature)",
		Long: `Attach pushes an artifact of FILEs to REF's repository (a registry or an
OCI layout, oci:DIR[:TAG]) whose subject is the manifest REF names: an
OCI 1.1 referrer, which hoist referrers, oras discover and hoist copy
--referrers find.

The artifact is an image-spec 1.1 artifact manifest: --artifact-type TYPE
(required), the empty config descriptor, and one layer per FILE titled
with its name (org.opencontainers.image.title; the path as given when it
is relative, else its base name), of media type MEDIATYPE when FILE is
written FILE:MEDIATYPE (default application/vnd.oci.image.layer.v1.tar,
as oras). Without FILEs the one layer is the empty descriptor.
--annotation KEY=VALUE (repeatable) annotates the manifest.

A registry with the referrers API indexes the artifact itself; on one
without it, hoist adds it to REF's referrers tag (sha256-HEX), merged
with what the tag lists. A layout lists it in index.json, untagged.`,
		Example: `  hoist attach --artifact-type application/spdx+json localhost:5000/team/app:v1 sbom.spdx.json
  hoist attach --artifact-type application/vnd.example.signature --annotation org.example.signer=ci registry.example.com/team/app@sha256:4f1c... sig.bin:application/octet-stream
  hoist attach --artifact-type application/spdx+json oci:./app:v1 sbom.spdx.json`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if artifactType == "" {
				return usagef("attach needs --artifact-type TYPE, e.g. --artifact-type application/spdx+json")
			}
			ann, err := parseAnnotations(annotations)
			if err != nil {
				return err
			}
			res, err := a.session.Attach(cmd.Context(), args[0], artifactType, args[1:], lib.WithAnnotations(ann), lib.WithPlatforms(platforms...))
			if err != nil {
				return err
			}
			return a.printArtifact(res, "attached to "+args[0]+"@"+res.Subject.Digest.String())
		},
	}
	cmd.Flags().StringVar(&artifactType, "artifact-type", "", "the artifact's type, a media type (required)")
	cmd.Flags().StringArrayVar(&annotations, "annotation", nil, "KEY=VALUE annotation of the artifact manifest (repeatable)")
	cmd.Flags().StringArrayVar(&platforms, "platform", nil, "for an index, attach to its image for os/arch[/variant]")
	return cmd
}

func (a *App) artifactCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "artifact push|pull",
		Short: "Push and pull artifacts of plain files, as oras does",
		Long: `artifact push stores files in a registry (or an OCI layout) as an OCI
artifact, and artifact pull writes them back out; the layout is oras's, so
an artifact either tool pushes, the other pulls.`,
		Example: `  hoist artifact push localhost:5000/team/notes:v1 README.md docs/guide.md
  hoist artifact pull localhost:5000/team/notes:v1 ./notes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usagef("artifact needs a verb: push or pull (hoist help artifact)")
		},
	}
	cmd.AddCommand(a.artifactPushCommand(), a.artifactPullCommand())
	return cmd
}

func (a *App) artifactPushCommand() *cobra.Command {
	var artifactType string
	var annotations []string
	cmd := &cobra.Command{
		Use:   "push REF FILE[:MEDIATYPE]...",
		Short: "Push files as an artifact, tagged, as oras push does",
		Long: `Artifact push stores FILEs as one OCI artifact in REF's repository (a
registry, or an OCI layout oci:DIR[:TAG]) and tags it with REF's tag
(latest when it has none). Each file is a layer titled with its name
(org.opencontainers.image.title: the path as given when it is relative
and stays below the current directory, else its base name), so oras pull
and hoist artifact pull recreate it; FILE:MEDIATYPE sets its media type
(default application/vnd.oci.image.layer.v1.tar). --artifact-type sets
the manifest's (default application/vnd.unknown.artifact.v1, as oras);
--annotation KEY=VALUE annotates it. Directories are refused: make a tar.`,
		Example: `  hoist artifact push localhost:5000/team/notes:v1 README.md docs/guide.md
  hoist artifact push --artifact-type application/vnd.example.config registry.example.com/team/config:2024 app.yaml:application/yaml`,
		Args: minArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ann, err := parseAnnotations(annotations)
			if err != nil {
				return err
			}
			opts := []lib.Option{lib.WithAnnotations(ann)}
			if artifactType != "" {
				opts = append(opts, lib.WithArtifactType(artifactType))
			}
			res, err := a.session.PushArtifact(cmd.Context(), args[0], args[1:], opts...)
			if err != nil {
				return err
			}
			return a.printArtifact(res, "pushed to "+res.Reference)
		},
	}
	cmd.Flags().StringVar(&artifactType, "artifact-type", "", "the artifact's type, a media type (default application/vnd.unknown.artifact.v1)")
	cmd.Flags().StringArrayVar(&annotations, "annotation", nil, "KEY=VALUE annotation of the artifact manifest (repeatable)")
	return cmd
}

func (a *App) artifactPullCommand() *cobra.Command {
	var platforms []string
	cmd := &cobra.Command{
		Use:   "pull REF DIR",
		Short: "Write an artifact's files into a directory, as oras pull does",
		Long: `Artifact pull writes the files of the artifact REF names (a registry
image or an OCI layout) into DIR, creating it: each layer titled with
org.opencontainers.image.title becomes the file that title names, under
DIR; layers without a title are skipped and counted.

Titles come from the registry and are checked before anything is
written: an absolute path, a ".." that climbs out of DIR, or two layers
with one title refuse the whole pull, and no file is ever written outside
DIR, not even through a symbolic link inside it. Each file streams into a
temporary file beside its place, verified against its digest, and
replaces any file of that name only once complete. Directories oras
packed as tars are refused.`,
		Example: `  hoist artifact pull localhost:5000/team/notes:v1 ./notes
  hoist artifact pull --json oci:./artifacts:v1 out`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := a.session.PullArtifact(cmd.Context(), args[0], args[1], lib.WithPlatforms(platforms...))
			if err != nil {
				return err
			}
			return a.printArtifact(res, "pulled into "+args[1])
		},
	}
	cmd.Flags().StringArrayVar(&platforms, "platform", nil, "for an index, pull its image for os/arch[/variant]")
	return cmd
}

// printArtifact prints what an artifact verb did: the digest and the
// files (-q: the digest; --json: the result).
func (a *App) printArtifact(res *lib.ArtifactResult, what string) error {
	switch {
	case a.jsonOut:
		if res.Files == nil {
			res.Files = []lib.ArtifactFile{}
		}
		return a.printJSON(res)
	case a.quiet:
		fmt.Fprintln(a.stdout, res.Descriptor.Digest)
		return nil
	}
	fmt.Fprintf(a.stdout, "%s  %s  (%d file(s))\n", res.Descriptor.Digest, what, len(res.Files))
	for _, f := range res.Files {
		fmt.Fprintf(a.stdout, "  %s  %s  (%s)\n", filepath.FromSlash(f.Name), f.Descriptor.Digest, content.HumanSize(f.Descriptor.Size))
	}
	if res.Skipped > 0 {
		fmt.Fprintf(a.stdout, "  %d layer(s) without a title (org.opencontainers.image.title) skipped\n", res.Skipped)
	}
	return nil
}

// minArgs is cobra.MinimumNArgs with a usage error that names the verb's
// synopsis.
func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= n {
			return nil
		}
		return usagef("%s takes at least %d argument(s), got %d; usage: %s", cmd.Name(), n, len(args), cmd.UseLine())
	}
}
