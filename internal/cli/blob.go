package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	lib "github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/internal/atomicfile"
	"github.com/hoist-dev/hoist/internal/blobio"
)

func (a *App) blobCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "blob REPOSITORY@DIGEST",
		Short: "Write a blob's bytes to stdout or a file",
		Long: `Blob streams the blob DIGEST of REPOSITORY to stdout, or with -o to FILE.
The bytes are checked against the digest as they arrive. To stdout, a
mismatch is reported at the end with exit status 1 (the bytes already
written cannot be taken back); with -o, FILE appears only once the whole
blob has arrived and matched, so it is never left partial or wrong.
With -o, --json prints {"reference", "digest", "size", "output"}.`,
		Example: `  hoist blob localhost:5000/team/app@sha256:4f5c... | tar -tzv
  hoist blob -o layer.tar.gz registry.example.com/library/alpine@sha256:...`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.jsonOut && (output == "" || output == "-") {
				return usagef("blob --json needs -o FILE: the blob's bytes would go to stdout with the JSON document")
			}
			rc, desc, err := a.session.Blob(cmd.Context(), args[0])
			if errors.Is(err, lib.ErrNotRegistry) {
				return usagef("blob reads from a registry; %s is not a registry reference", args[0])
			}
			if err != nil {
				return err
			}
			defer rc.Close()
			if output == "" || output == "-" {
				_, err := io.Copy(a.stdout, rc)
				return err
			}
			f, err := atomicfile.Create(output, 0o600)
			if err != nil {
				return err
			}
			defer f.Abort()
			if _, err := blobio.Copy(f, rc); err != nil {
				return fmt.Errorf("blob %s: %w", desc.Digest, err)
			}
			if err := f.Commit(); err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(blobDoc{Reference: args[0], Digest: desc.Digest.String(), Size: desc.Size, Output: output})
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to FILE instead of stdout (atomically)")
	return cmd
}

// blobDoc is hoist blob -o FILE --json.
type blobDoc struct {
	Reference string `json:"reference"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
	Output    string `json:"output"`
}
