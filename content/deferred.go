package content

import (
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Deferring is implemented by a Verifying reader of a blob that a store
// already checked when it took the blob in (a file of an OCI layout),
// for a receiver that checks the digest itself (a registry, at the
// commit of an upload): such a receiver may read the bytes unhashed and
// leave the check to itself, sparing the sender a second hash. Wrappers
// that pass bytes through unchanged forward it, wrapping Deferred.R the
// same way.
type Deferring interface {
	Verifying
	// DeferVerification returns the same bytes, from the reader's
	// position, unchecked, and the error that names the blob's copy as
	// corrupt for when the receiver refuses them; false when the reader
	// cannot defer. After a true, the caller reads Deferred.R only.
	DeferVerification() (Deferred, bool)
}

// Deferred is what Deferring.DeferVerification returns.
type Deferred struct {
	// R yields the blob's bytes unchecked.
	R io.Reader
	// Corrupt names the blob and where it is stored, saying that copy
	// does not match its digest and what to do about it; the receiver
	// wraps its own refusal with it.
	Corrupt error
}

// NewCounted returns a reader of r that checks only the count of
// desc's bytes: a content.MismatchError (matching errcode.ErrSizeMismatch)
// when r ends short or runs on past desc.Size, else io.EOF at the end.
// It is the reader for bytes whose digest the receiver checks (see
// Deferring).
func NewCounted(r io.Reader, desc ocispec.Descriptor) io.Reader {
	return &counted{r: r, want: desc}
}

type counted struct {
	r    io.Reader
	want ocispec.Descriptor
	n    int64
	err  error
}

func (c *counted) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if rest := c.want.Size - c.n; int64(len(p)) > rest+1 {
		p = p[:rest+1] // one byte past the end tells a longer source
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.want.Size {
		c.err = &MismatchError{Want: c.want, GotSize: c.n}
		return n - int(c.n-c.want.Size), c.err
	}
	if err == io.EOF {
		if c.n != c.want.Size {
			err = &MismatchError{Want: c.want, GotSize: c.n}
		}
		c.err = err
	}
	return n, err
}
