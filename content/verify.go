package content

import (
	"fmt"
	"hash"
	"io"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/errcode"
)

// MismatchError reports content that is not what its descriptor says. It
// matches errcode.ErrSizeMismatch when the sizes differ and
// errcode.ErrDigestMismatch otherwise.
type MismatchError struct {
	// Want is the descriptor the content was checked against (Size -1 when
	// only the digest was known).
	Want ocispec.Descriptor
	// GotSize is how many bytes there were (or had been read when the
	// content ran past Want.Size).
	GotSize int64
	// GotDigest is the digest of what was read; empty when the size was
	// already wrong.
	GotDigest digest.Digest
}

func (e *MismatchError) sizeWrong() bool { return e.Want.Size >= 0 && e.GotSize != e.Want.Size }

func (e *MismatchError) Error() string {
	if e.sizeWrong() {
		if e.GotSize > e.Want.Size {
			return fmt.Sprintf("content %s is longer than the %d bytes its descriptor says: size mismatch", e.Want.Digest, e.Want.Size)
		}
		return fmt.Sprintf("content %s ended after %d of %d bytes: size mismatch", e.Want.Digest, e.GotSize, e.Want.Size)
	}
	return fmt.Sprintf("content named %s hashes to %s: digest mismatch; the source is corrupt or serving other content", e.Want.Digest, e.GotDigest)
}

// Is matches errcode.ErrSizeMismatch or errcode.ErrDigestMismatch.
func (e *MismatchError) Is(target error) bool {
	if e.sizeWrong() {
		return target == errcode.ErrSizeMismatch
	}
	return target == errcode.ErrDigestMismatch
}

// Verifier passes a stream through while checking it against a
// descriptor. It hashes every byte it returns and counts them, and never
// returns more than the descriptor's size. When the stream ends it checks
// both: on a match Read returns io.EOF, on a mismatch a *MismatchError (and
// keeps returning it). A stream that goes on past the size fails as soon as
// the extra byte arrives. So a caller that copies until io.EOF has, by
// then, exactly the bytes the descriptor names.
//
// A descriptor with a negative Size checks only the digest, at the end of
// the stream. Errors of the underlying reader pass through unchanged and
// are not sticky. A Verifier is not safe for concurrent use; it does not
// close the underlying reader.
type Verifier struct {
	r    io.Reader
	want ocispec.Descriptor
	h    hash.Hash // nil when r verifies the same descriptor itself
	n    int64
	err  error // sticky: io.EOF once verified, or the mismatch
}

// Verifying is implemented by readers that check what they return against
// a descriptor the way a Verifier does: io.EOF only once the bytes matched.
// Wrappers that pass bytes through unchanged (progress counters) forward it.
type Verifying interface {
	io.Reader
	// VerifiedAgainst returns the descriptor the reader checks its bytes
	// against, and false when it checks nothing.
	VerifiedAgainst() (ocispec.Descriptor, bool)
}

// NewVerifier returns a Verifier reading from r. It fails only when
// want.Digest is malformed or of an algorithm this build cannot compute.
//
// When r is Verifying against the same digest and size (a blob streamed
// from a store that already checks it), the bytes are not hashed a second
// time: the Verifier counts them and relies on r's check, which fails r's
// Read before io.EOF on any mismatch. Every byte is still verified once.
func NewVerifier(r io.Reader, want ocispec.Descriptor) (*Verifier, error) {
	if err := want.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("cannot verify against digest %q: %w", want.Digest, err)
	}
	if vr, ok := r.(Verifying); ok {
		if d, ok := vr.VerifiedAgainst(); ok && d.Digest == want.Digest && (want.Size < 0 || d.Size == want.Size) {
			return &Verifier{r: r, want: want}, nil
		}
	}
	return &Verifier{r: r, want: want, h: want.Digest.Algorithm().Hash()}, nil
}

// VerifiedAgainst returns the descriptor v checks, so that a writer given
// v need not hash again.
func (v *Verifier) VerifiedAgainst() (ocispec.Descriptor, bool) { return v.want, true }

// Read implements io.Reader.
func (v *Verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.want.Size >= 0 {
		if left := v.want.Size - v.n; int64(len(p)) > left {
			// Ask for one byte past the end: if it arrives, the content is
			// too long.
			p = p[:left+1]
		}
	}
	n, err := v.r.Read(p)
	if v.want.Size >= 0 && v.n+int64(n) > v.want.Size {
		n = int(v.want.Size - v.n)
		v.hash(p[:n])
		v.n += int64(n)
		v.err = &MismatchError{Want: v.want, GotSize: v.want.Size + 1}
		return n, v.err
	}
	v.hash(p[:n])
	v.n += int64(n)
	if err == io.EOF {
		v.err = v.check()
		return n, v.err
	}
	return n, err
}

func (v *Verifier) hash(p []byte) {
	if v.h != nil {
		v.h.Write(p)
	}
}

// check compares what was read with the descriptor: io.EOF on a match.
func (v *Verifier) check() error {
	if v.want.Size >= 0 && v.n != v.want.Size {
		return &MismatchError{Want: v.want, GotSize: v.n}
	}
	if v.h == nil {
		return io.EOF // the inner reader checked the digest before its io.EOF
	}
	got := digest.NewDigest(v.want.Digest.Algorithm(), v.h)
	if got != v.want.Digest {
		return &MismatchError{Want: v.want, GotSize: v.n, GotDigest: got}
	}
	return io.EOF
}

// Count returns how many bytes Read has returned so far.
func (v *Verifier) Count() int64 { return v.n }

// Verified reports whether the whole stream was read and matched.
func (v *Verifier) Verified() bool { return v.err == io.EOF }
