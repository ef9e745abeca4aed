package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	lib "github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/copy"
)

// referrerFlags are pull's, push's and copy's referrer flags.
type referrerFlags struct {
	on     bool
	types  []string
	cosign bool
}

func (f *referrerFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&f.on, "referrers", false, "copy the image's referrers (signatures, SBOMs, attestations) and theirs, and cosign's sha256-HEX.sig/.att/.sbom tags, before the tag is set")
	fs.StringArrayVar(&f.types, "referrers-type", nil, "copy only referrers of this artifact type, at every level (repeatable; implies --referrers, and leaves cosign's tags out)")
	fs.BoolVar(&f.cosign, "cosign-tags", false, "copy cosign's legacy sha256-HEX.sig, .att and .sbom tags of the image with it")
}

func (f *referrerFlags) options() []lib.Option {
	var opts []lib.Option
	if f.on || len(f.types) > 0 {
		opts = append(opts, lib.WithReferrers(f.types...))
	}
	if f.cosign {
		opts = append(opts, lib.WithCosignTags())
	}
	return opts
}

// copiedReferrer is one referrer in copy's --json output.
type copiedReferrer struct {
	Subject      string            `json:"subject"`
	Digest       string            `json:"digest"`
	MediaType    string            `json:"mediaType"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Tag          string            `json:"tag,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

func copiedReferrers(rs []copy.Referrer) []copiedReferrer {
	var out []copiedReferrer
	for _, r := range rs {
		out = append(out, copiedReferrer{Subject: r.Subject.String(), Digest: r.Descriptor.Digest.String(), MediaType: r.Descriptor.MediaType,
			ArtifactType: r.Descriptor.ArtifactType, Tag: r.Tag, Annotations: r.Descriptor.Annotations})
	}
	return out
}

// referrersLostMessage words a *lib.ReferrersLostError with flags.
func referrersLostMessage(err error) (string, bool) {
	var rl *lib.ReferrersLostError
	if !errors.As(err, &rl) {
		return "", false
	}
	why := "the copy changed or left out the manifests they refer to (--platform, --format)"
	switch {
	case rl.Archive:
		why = "a docker archive cannot hold them; copy to an OCI layout (oci:DIR) with --referrers to keep them"
	case rl.NotAsked:
		why = "copy them with --referrers"
	}
	return fmt.Sprintf("the source has %d referrer(s) (signatures, SBOMs, attestations) that were not copied: %s", len(rl.Referrers), why), true
}

func (a *App) referrersCommand() *cobra.Command {
	var types, platforms []string
	var cosign bool
	cmd := &cobra.Command{
		Use:   "referrers REF",
		Short: "List the signatures, SBOMs and attestations that refer to an image",
		Long: `Referrers prints the tree of manifests that refer to the manifest REF
names through their subject field (OCI 1.1 referrers: signatures, SBOMs,
attestations), and those that refer to them in turn: a signature of an
SBOM of an image. REF is a registry image or an OCI layout (oci:DIR[:TAG]).

A registry is asked through its referrers API, or, where it has none,
through the referrers tag the distribution spec defines (sha256-HEX); a
layout's referrers are the index.json entries whose manifest names REF as
its subject, and those in its referrers tag.

--artifact-type keeps only referrers of that type (repeatable), at every
level; --cosign-tags adds cosign's legacy sha256-HEX.sig, .att and .sbom
tags of REF. -q prints the digests only; --json prints the tree as
{"reference", "subject", "referrers": [{..., "artifactType",
"annotations", "referrers": [...]}]}.`,
		Example: `  hoist referrers localhost:5000/team/app:v1
  hoist referrers --artifact-type application/spdx+json --json registry.example.com/team/app@sha256:4f1c...
  hoist referrers oci:./app:v1`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := []lib.Option{lib.WithPlatforms(platforms...)}
			if len(types) > 0 {
				opts = append(opts, lib.WithReferrers(types...))
			}
			if cosign {
				opts = append(opts, lib.WithCosignTags())
			}
			tree, err := a.session.Referrers(cmd.Context(), args[0], opts...)
			if err != nil {
				return err
			}
			switch {
			case a.jsonOut:
				if tree.Referrers == nil {
					tree.Referrers = []*lib.ReferrerNode{}
				}
				return a.printJSON(tree)
			case a.quiet:
				printDigests(a.stdout, tree.Referrers)
			default:
				fmt.Fprintf(a.stdout, "%s  %s\n", args[0], tree.Subject.Digest)
				printTree(a.stdout, tree.Referrers, "")
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&types, "artifact-type", nil, "list only referrers of this artifact type, at every level (repeatable)")
	cmd.Flags().BoolVar(&cosign, "cosign-tags", false, "also list cosign's legacy sha256-HEX.sig, .att and .sbom tags of REF")
	cmd.Flags().StringArrayVar(&platforms, "platform", nil, "for an index, list the referrers of its image for os/arch[/variant]")
	return cmd
}

func printDigests(w io.Writer, nodes []*lib.ReferrerNode) {
	for _, n := range nodes {
		fmt.Fprintln(w, n.Digest)
		printDigests(w, n.Referrers)
	}
}

// printTree draws nodes under prefix, one line each: digest, artifact
// type (or cosign tag) and size.
func printTree(w io.Writer, nodes []*lib.ReferrerNode, prefix string) {
	for i, n := range nodes {
		branch, below := "├── ", "│   "
		if i == len(nodes)-1 {
			branch, below = "└── ", "    "
		}
		what := n.ArtifactType
		if n.Tag != "" {
			what = "tag " + n.Tag
		}
		if what == "" {
			what = n.MediaType
		}
		fmt.Fprintf(w, "%s%s%s  %s  (%s)\n", prefix, branch, n.Digest, what, content.HumanSize(n.Size))
		printTree(w, n.Referrers, prefix+below)
	}
}
