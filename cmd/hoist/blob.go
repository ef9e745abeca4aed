package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"
)

func (a *app) blobCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "blob REPOSITORY@DIGEST",
		Short: "Write a blob's bytes to stdout or a file",
		Long: `Blob streams the blob DIGEST of REPOSITORY to stdout, or with -o to FILE.
The bytes are checked against the digest as they arrive. To stdout, a
mismatch is reported at the end with exit status 1 (the bytes already
written cannot be taken back); with -o, FILE appears only once the whole
blob has arrived and matched, so it is never left partial or wrong.`,
		Example: `  hoist blob localhost:5000/team/app@sha256:4f5c... | tar -tzv
  hoist blob -o layer.tar.gz registry.example.com/library/alpine@sha256:...`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			l, err := parseLocation(args[0])
			if err != nil {
				return err
			}
			if l.Ref.Digest == "" {
				return usagef("blob needs REPOSITORY@DIGEST, e.g. localhost:5000/team/app@sha256:...; %q has no digest", args[0])
			}
			if err := a.requireV2(ctx, l.Ref.Registry, "blobs by digest"); err != nil {
				return err
			}
			repo, err := a.openRemote(l.Ref)
			if err != nil {
				return err
			}
			desc, err := repo.Distribution().BlobHead(ctx, l.Ref.Digest)
			if err != nil {
				return err
			}
			rc, err := repo.Fetch(ctx, ocispec.Descriptor{MediaType: "application/octet-stream", Digest: desc.Digest, Size: desc.Size})
			if err != nil {
				return err
			}
			defer rc.Close()
			if output == "" || output == "-" {
				_, err := io.Copy(a.stdout, rc)
				return err
			}
			tmp, err := os.CreateTemp(filepath.Dir(output), "."+filepath.Base(output)+".hoist-*")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			if _, err := io.Copy(tmp, rc); err != nil {
				tmp.Close()
				return fmt.Errorf("blob %s: %w", l.Ref.Digest, err)
			}
			if err := tmp.Close(); err != nil {
				return err
			}
			return os.Rename(tmp.Name(), output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to FILE instead of stdout (atomically)")
	return cmd
}
