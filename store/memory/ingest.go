package memory

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
)

// ingestState is what an ingest holds between opens.
type ingestState struct {
	data []byte
	open bool
}

// Ingest opens the blob ingest ref (store.Ingester). Its bytes are kept
// in the Namespace until it is committed or aborted, so that an Ingest of
// the same ref resumes it; a ref that is open already is an error.
func (r *Repository) Ingest(ctx context.Context, ref string, opts store.IngestOptions) (store.Ingest, error) {
	ref, err := store.CheckIngest(ctx, ref, opts)
	if err != nil {
		return nil, err
	}
	r.ns.mu.Lock()
	defer r.ns.mu.Unlock()
	st := r.ns.state(r.name, !opts.Resume)
	var s *ingestState
	if st != nil {
		s = st.ingests[ref]
	}
	switch {
	case s == nil && opts.Resume:
		return nil, r.notFound("upload " + ref)
	case s == nil:
		s = &ingestState{}
		st.ingests[ref] = s
	case s.open:
		return nil, fmt.Errorf("ingest %s into %s is open already", ref, r.name)
	}
	if e := opts.Expected; e.Digest != "" && e.Size >= 0 && int64(len(s.data)) > e.Size {
		s.data = nil
	}
	s.open = true
	return &ingest{r: r, ctx: ctx, ref: ref, s: s, data: s.data, expected: opts.Expected}, nil
}

// ingest is one open ingest: it works on its own copy of the bytes and
// hands them back on Close.
type ingest struct {
	r        *Repository
	ctx      context.Context
	ref      string
	s        *ingestState
	data     []byte
	expected ocispec.Descriptor
	done     bool
}

var errIngestDone = errors.New("the ingest was already committed or aborted")

func (in *ingest) Ref() string   { return in.ref }
func (in *ingest) Offset() int64 { return int64(len(in.data)) }

func (in *ingest) Write(p []byte) (int, error) {
	if in.done {
		return 0, errIngestDone
	}
	if err := in.ctx.Err(); err != nil {
		return 0, err
	}
	if e := in.expected; e.Digest != "" && e.Size >= 0 && int64(len(in.data)+len(p)) > e.Size {
		return 0, &content.MismatchError{Want: e, GotSize: int64(len(in.data) + len(p))}
	}
	in.data = append(in.data, p...)
	return len(p), nil
}

func (in *ingest) Commit(ctx context.Context, size int64, expected digest.Digest) (ocispec.Descriptor, error) {
	if in.done {
		return ocispec.Descriptor{}, errIngestDone
	}
	if err := expected.Validate(); err != nil {
		return ocispec.Descriptor{}, err
	}
	n := int64(len(in.data))
	want := ocispec.Descriptor{Digest: expected, Size: size}
	if size >= 0 && n != size {
		in.Abort(ctx)
		return ocispec.Descriptor{}, &content.MismatchError{Want: want, GotSize: n}
	}
	if got := expected.Algorithm().FromBytes(in.data); got != expected {
		in.Abort(ctx)
		want.Size = -1
		return ocispec.Descriptor{}, &content.MismatchError{Want: want, GotSize: n, GotDigest: got}
	}
	in.r.commitBlob(expected, in.data)
	in.end(true)
	return ocispec.Descriptor{MediaType: in.expected.MediaType, Digest: expected, Size: n}, nil
}

func (in *ingest) Abort(ctx context.Context) error {
	in.end(true)
	return nil
}

func (in *ingest) Close() error {
	in.end(false)
	return nil
}

// end closes the ingest, dropping it or keeping its bytes for a resume;
// an ingest ends once, and a later end does nothing.
func (in *ingest) end(drop bool) {
	if in.done {
		return
	}
	in.done = true
	ns := in.r.ns
	ns.mu.Lock()
	defer ns.mu.Unlock()
	in.s.open = false
	in.s.data = in.data
	if st := ns.state(in.r.name, false); drop && st != nil {
		delete(st.ingests, in.ref)
	}
}
