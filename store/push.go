package store

import (
	"context"
	"errors"
	"fmt"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/internal/blobio"
)

// PushIngest is Writer.Push of a blob for a store that is an Ingester:
// it opens a new ingest (ref "", the store picks one) expecting desc,
// copies r into it and commits it with desc's size and digest (see
// CopyIngest). A one-call push leaves nothing behind: on any failure the
// ingest is aborted. A caller that wants to resume an interrupted blob
// opens the ingest itself, with a ref it can name again (the copy engine
// uses the digest), and calls CopyIngest.
func PushIngest(ctx context.Context, ing Ingester, desc ocispec.Descriptor, r io.Reader) error {
	in, err := ing.Ingest(ctx, "", IngestOptions{Expected: desc})
	if err != nil {
		return err
	}
	if err := write(in, r); err != nil {
		_ = in.Abort(ctx)
		return err
	}
	if _, err := in.Commit(ctx, desc.Size, desc.Digest); err != nil {
		_ = in.Abort(ctx)
		return err
	}
	return in.Close()
}

// CopyIngest writes r, the bytes of blob desc from in.Offset() on, into
// the open ingest in and commits it with desc's size and digest. It uses
// in's ReadFrom when in has one, so the store may trust a verifying source
// or send the rest in one request (see Ingest.Write).
//
// Content proved wrong (a digest mismatch, more bytes than desc.Size) is
// aborted, as Commit discards a mismatch itself. Any other failure (r
// broke or ended early, ctx ended) closes the ingest and keeps what
// arrived, for a later Ingest of the same ref to resume. in is closed or
// aborted when CopyIngest returns.
func CopyIngest(ctx context.Context, in Ingest, desc ocispec.Descriptor, r io.Reader) error {
	if err := write(in, r); err != nil {
		if ProvesWrong(err) {
			_ = in.Abort(ctx)
		} else {
			_ = in.Close()
		}
		return err
	}
	if _, err := in.Commit(ctx, desc.Size, desc.Digest); err != nil {
		_ = in.Close() // after a mismatch Commit has discarded it already
		return err
	}
	return in.Close()
}

func write(in Ingest, r io.Reader) error {
	var err error
	if rf, ok := in.(io.ReaderFrom); ok {
		_, err = rf.ReadFrom(r)
	} else {
		_, err = blobio.Copy(in, r)
	}
	if err != nil {
		return fmt.Errorf("ingest %s: %w", in.Ref(), err)
	}
	return nil
}

// ProvesWrong reports whether err, from writing or committing a blob,
// proves the bytes wrong, so that keeping them to resume from is useless:
// a digest mismatch, or more bytes than the descriptor says. A stream that
// merely broke or ended early leaves a prefix that may well be right.
func ProvesWrong(err error) bool {
	var mm *content.MismatchError
	if errors.As(err, &mm) {
		return mm.GotDigest != "" || mm.Want.Size >= 0 && mm.GotSize > mm.Want.Size
	}
	return errors.Is(err, errdef.ErrDigestMismatch)
}
