package copy

import (
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// EventKind says what happened to a descriptor.
type EventKind int

// The kinds of Event.
const (
	// Planned: a copy knows its graph. Bytes is the total size of its
	// distinct blobs and Count how many there are; progress, skip and
	// mount events for those blobs follow.
	Planned EventKind = iota + 1
	// BlobStarted: a transfer began. Offset > 0 when it resumes a partial.
	BlobStarted
	// BlobProgress: Bytes of the blob have been transferred so far.
	BlobProgress
	// BlobDone: the blob was transferred and verified.
	BlobDone
	// BlobSkipped: the target already had the blob.
	BlobSkipped
	// BlobMounted: the target took the blob from repository From.
	BlobMounted
	// ManifestPushed: a manifest or index was written to the target.
	ManifestPushed
	// Tagged: the root was tagged (Tag may be "" for an untagged root).
	Tagged
)

// String names the kind, for logs.
func (k EventKind) String() string {
	switch k {
	case Planned:
		return "planned"
	case BlobStarted:
		return "started"
	case BlobProgress:
		return "progress"
	case BlobDone:
		return "done"
	case BlobSkipped:
		return "skipped"
	case BlobMounted:
		return "mounted"
	case ManifestPushed:
		return "manifest"
	case Tagged:
		return "tagged"
	}
	return "unknown"
}

// Event reports progress on one descriptor.
type Event struct {
	Kind       EventKind
	Descriptor ocispec.Descriptor
	// Bytes is the running total for BlobProgress, the resume offset for
	// BlobStarted, and the size for BlobDone.
	Bytes int64
	// From is the mount source repository for BlobMounted.
	From string
	// Tag is the tag for Tagged.
	Tag string
	// Count is the number of distinct blobs for Planned.
	Count int
}
