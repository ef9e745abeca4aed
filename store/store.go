package store

import (
	"context"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/errdef"
)

// ErrNotFound is matched (errors.Is) by every store's error for a tag,
// manifest or blob it does not have. It is errdef.ErrNotFound, the value a
// registry's 404 matches too.
var ErrNotFound = errdef.ErrNotFound

// Reader reads the content of one image location.
//
// Implementations are safe for concurrent use; the copy engine fetches many
// blobs at once.
type Reader interface {
	// Resolve returns the descriptor of the manifest or index that ref
	// names: a tag, a digest string, or "" for the image the store's own
	// location names. Every store opened at a location is bound to it:
	// "" is the TAG of oci:DIR:TAG (or the layout's only image), the REF of
	// docker-archive:FILE:REF (or the archive's only image), the tag or
	// digest of a registry reference (latest when it has neither). A
	// store bound to no image (a repository of a Namespace) fails "" with
	// an error matching errdef.ErrInvalid. What the store lacks matches
	// ErrNotFound.
	Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error)

	// Fetch returns the content of desc. desc.MediaType says what desc
	// is, as it does for Writer.Push, Writer.Exists and Deleter.Delete: a
	// manifest or index media type (content.KindOf) is a manifest, which a
	// registry serves from its manifests endpoint; anything else, the
	// empty media type included, is a blob. So a blob known only by
	// digest is fetched with ocispec.Descriptor{Digest: d, Size: n} (Size
	// from Statter.Stat, or -1 for unknown). The reader checks size and
	// digest as it is read: a mismatch is an error from Read, never
	// io.EOF, so a caller that reads to EOF without error has verified
	// content. The caller closes it.
	Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error)
}

// Writer accepts content for one image location.
//
// Implementations are safe for concurrent use. Content becomes visible only
// once complete and verified; an interrupted Push leaves nothing a reader
// could mistake for content.
type Writer interface {
	// Exists reports whether the location already holds desc, so a copy
	// can skip it.
	Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error)

	// Push stores the content of desc read from r, verifying its size and
	// digest. Manifests and indexes (by desc.MediaType) are pushed by
	// digest like blobs; Push must be called for them only after all their
	// children are present, and stores refuse them otherwise with an error
	// matching ErrNotFound. A store that is an Ingester implements Push
	// for blobs with PushIngest.
	Push(ctx context.Context, desc ocispec.Descriptor, r io.Reader) error

	// Tag makes tag name desc, a manifest or index already pushed. An empty
	// tag records desc as a root without a name where the location has such
	// a notion (an OCI layout's index.json) and does nothing otherwise.
	Tag(ctx context.Context, desc ocispec.Descriptor, tag string) error
}

// Aborter is a Writer whose writes form one unit that can be abandoned
// instead of finished, as an Ingest can: an archive being written is
// removed, and a layout that opening created and that received nothing is
// removed again, so a failed copy leaves nothing behind. Abort ends the
// store (Close must not follow) and is safe after Close, when it does
// nothing. Callers Abort instead of Close after a failure.
type Aborter interface {
	Abort(ctx context.Context) error
}

// Closer is implemented by stores that must finish their work (an archive
// writes its manifest and closes the tar). The CLI closes every store it
// opens; a Writer that was not closed after a successful copy is incomplete.
type Closer interface {
	Close() error
}

// Mounter is a Writer that can take a blob from another repository of the
// same registry without transferring it.
type Mounter interface {
	// Mount makes desc available from repository from (a repository path on
	// the same registry). It reports false, with no error, when the
	// registry declined; the caller then pushes the blob.
	Mount(ctx context.Context, desc ocispec.Descriptor, from string) (bool, error)
	// Registry returns the registry host mounts are possible within.
	Registry() string
	// Repository returns the repository path being written.
	Repository() string
}

// RangeReader is a Reader that can start a blob part way through.
type RangeReader interface {
	// FetchFrom returns the bytes of desc from offset to the end. They are
	// NOT verified (the reader cannot know the digest of a suffix): the
	// writer that appends them verifies the whole blob.
	FetchFrom(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error)
}

// TagPusher is a Writer that can store a root manifest and tag it in one
// step, as a registry does with a PUT by tag. The copy engine uses it for
// the root of a tagged copy instead of Push followed by Tag, saving a round
// trip; the same ordering rule applies (children first).
type TagPusher interface {
	// PushTagged stores manifest desc, read from r, under tag (not empty).
	PushTagged(ctx context.Context, desc ocispec.Descriptor, r io.Reader, tag string) error
}

// EmptyChecker is a Writer that can tell cheaply whether it holds nothing
// yet. A copy into an empty location skips its per-blob existence checks;
// being wrong costs only an upload of a blob the location had.
type EmptyChecker interface {
	// Empty reports whether the location has no tags (a registry
	// repository that does not exist yet, for one).
	Empty(ctx context.Context) (bool, error)
}

// TagLister is a Reader that can list its tags.
type TagLister interface {
	// Tags returns the tags p selects, in lexical order; a registry
	// answers in its own order, which the spec says is lexical. A
	// repository that does not exist is an error matching ErrNotFound; one
	// without tags is an empty list.
	Tags(ctx context.Context, p Page) ([]string, error)
}

// Referencer is a store opened at a location, which it reports: the
// location's String is how the user would write it, for messages.
type Referencer interface {
	// Location returns the location the store was opened at.
	Location() Location
}
