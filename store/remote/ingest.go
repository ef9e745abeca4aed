package remote

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/distribution"
	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/internal/blobio"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/transport"
)

// UploadSession is where an ingest's upload session stands on the
// registry: enough to pick it up again (distribution.ResumeUpload).
type UploadSession struct {
	// Location is the session's URL. It may carry registry state and
	// signatures: keep it as a secret.
	Location string
	// Offset is how many bytes the registry had acknowledged when the
	// session was saved; the registry's own answer wins on resume.
	Offset int64
}

// UploadSessions keeps the upload sessions of a repository's open ingests
// by ref, so that an Ingest of the same ref resumes the session instead
// of starting over. The default keeps them in memory for the life of the
// Repository; one that keeps them on disk lets a push killed part way be
// resumed by the next process. Implementations are safe for concurrent
// use.
type UploadSessions interface {
	// Load returns the session saved for ref.
	Load(ref string) (UploadSession, bool)
	// Save records ref's session, replacing what was saved.
	Save(ref string, s UploadSession) error
	// Delete forgets ref.
	Delete(ref string)
	// Persistent reports whether the sessions outlive the process; when
	// they do not, Repository.Close cancels those still open.
	Persistent() bool
}

// memorySessions is the default UploadSessions.
type memorySessions struct {
	mu sync.Mutex
	m  map[string]UploadSession
}

func (s *memorySessions) Load(ref string) (UploadSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.m[ref]
	return u, ok
}

func (s *memorySessions) Save(ref string, u UploadSession) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]UploadSession{}
	}
	s.m[ref] = u
	return nil
}

func (s *memorySessions) Delete(ref string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, ref)
}

func (s *memorySessions) Persistent() bool { return false }

func (s *memorySessions) all() map[string]UploadSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]UploadSession, len(s.m))
	for k, v := range s.m {
		out[k] = v
	}
	return out
}

// WithUploadSessions returns the repository with its ingests' upload
// sessions kept in s instead of in memory. The copy shares nothing cached
// with r but the http.Client.
func (r *Repository) WithUploadSessions(s UploadSessions) (*Repository, error) {
	c, err := New(r.ref, r.client, r.opts...)
	if err != nil {
		return nil, err
	}
	c.sessions = s
	return c, nil
}

// Close cancels the upload sessions of ingests left open (closed without
// a commit), unless the repository keeps its sessions somewhere that
// outlives it (WithUploadSessions): nothing would resume them, and the
// registry would keep their bytes until it expires them. It waits at most
// ten seconds for the registry.
func (r *Repository) Close() error {
	if r.sessions.Persistent() {
		return nil
	}
	ms, ok := r.sessions.(*memorySessions)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ref, s := range ms.all() {
		if up, err := r.repo.ResumeUpload(ctx, s.Location); err == nil {
			_ = up.Cancel(ctx)
		}
		ms.Delete(ref)
	}
	return nil
}

// Ingest opens the blob ingest ref (store.Ingester) as a v2 upload
// session. A ref with a session saved (see UploadSessions) resumes it at
// the offset the registry reports; a session the registry no longer knows
// starts over, or with opts.Resume is an error matching store.ErrNotFound.
// A new ingest opens its session (POST) only when the first bytes come.
//
// Bytes written with Write go up as one streamed PATCH per open, ended by
// Close or Commit, whose PUT ?digest= carries no body. ReadFrom with the
// whole Expected descriptor instead sends the rest of the blob as PushBlob
// does (one PUT, or PATCH chunks under a proxy's body cap, resumed after
// a dropped connection when the source can be rewound), which commits it
// at once, verified by the registry; Commit then checks what it is told
// against that. A failed ReadFrom cancels its session, as a failed push
// does, so the next try starts a new one.
func (r *Repository) Ingest(ctx context.Context, ref string, opts store.IngestOptions) (store.Ingest, error) {
	if d := opts.Expected.Digest; d != "" {
		if err := d.Validate(); err != nil {
			return nil, fmt.Errorf("ingest into %s: %w", r.ref.Name(), err)
		}
	}
	if ref == "" {
		ref = newRef()
	}
	in := &ingest{r: r, ctx: ctx, ref: ref, expected: opts.Expected}
	if s, ok := r.sessions.Load(ref); ok {
		up, err := r.repo.ResumeUpload(ctx, s.Location)
		switch {
		case err == nil:
			in.up = up
			return in, nil
		case !errors.Is(err, errcode.ErrNotFound):
			return nil, fmt.Errorf("resume upload %s to %s: %w", ref, r.ref.Name(), err)
		}
		r.sessions.Delete(ref)
	}
	if opts.Resume {
		return nil, fmt.Errorf("%s has no upload %q: %w", r.ref.Name(), ref, store.ErrNotFound)
	}
	return in, nil
}

func newRef() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "ingest-" + hex.EncodeToString(b)
}

// ingest is one open ingest of a Repository.
type ingest struct {
	r        *Repository
	ctx      context.Context // the Ingest call's: writes run under it
	ref      string
	expected ocispec.Descriptor
	up       *distribution.Upload // nil until the session is opened
	stream   *patchStream         // the streamed PATCH Write feeds, if any
	// committed is the blob ReadFrom's last request stored.
	committed *ocispec.Descriptor
	done      bool
}

// patchStream is a streamed PATCH in flight, fed through a pipe. The
// Upload is the PATCH's goroutine's until err has answered.
type patchStream struct {
	pw   *io.PipeWriter
	base int64 // the upload's offset when the PATCH started
	sent int64
	err  chan error
}

var errIngestDone = errors.New("the ingest was already committed or aborted")

func (in *ingest) Ref() string { return in.ref }

// Offset is what the registry holds plus what the open PATCH has sent.
func (in *ingest) Offset() int64 {
	switch {
	case in.committed != nil:
		return in.committed.Size
	case in.stream != nil:
		return in.stream.base + in.stream.sent
	case in.up != nil:
		return in.up.Offset()
	}
	return 0
}

func (in *ingest) writable() error {
	if in.done || in.committed != nil {
		return errIngestDone
	}
	return in.ctx.Err()
}

// open starts the upload session, once.
func (in *ingest) open() error {
	if in.up != nil {
		return nil
	}
	up, err := in.r.repo.StartUpload(transport.WithRetryable(in.ctx))
	if err != nil {
		return err
	}
	in.up = up
	return in.save()
}

func (in *ingest) save() error {
	return in.r.sessions.Save(in.ref, UploadSession{Location: in.up.Location(), Offset: in.up.Offset()})
}

// forget drops the session: committed, cancelled or gone.
func (in *ingest) forget() {
	in.r.sessions.Delete(in.ref)
	in.up = nil
}

// Write appends p through the ingest's streamed PATCH, starting one when
// none is open.
func (in *ingest) Write(p []byte) (int, error) {
	if err := in.writable(); err != nil {
		return 0, err
	}
	if e := in.expected; e.Digest != "" && e.Size >= 0 && in.Offset()+int64(len(p)) > e.Size {
		return 0, &content.MismatchError{Want: e, GotSize: in.Offset() + int64(len(p))}
	}
	if in.stream == nil {
		if err := in.open(); err != nil {
			return 0, err
		}
		pr, pw := io.Pipe()
		st := &patchStream{pw: pw, base: in.up.Offset(), err: make(chan error, 1)}
		up := in.up
		go func() {
			err := up.WriteStream(in.ctx, pr)
			pr.CloseWithError(errors.Join(err, io.ErrClosedPipe))
			st.err <- err
		}()
		in.stream = st
	}
	n, err := in.stream.pw.Write(p)
	in.stream.sent += int64(n)
	if err != nil {
		if serr := in.endStream(); serr != nil {
			err = serr
		}
		return n, fmt.Errorf("upload %s to %s: %w", in.ref, in.r.ref.Name(), err)
	}
	return n, nil
}

// endStream ends the streamed PATCH, if one is open, and waits for the
// registry's answer.
func (in *ingest) endStream() error {
	st := in.stream
	if st == nil {
		return nil
	}
	in.stream = nil
	st.pw.Close()
	err := <-st.err
	if in.up != nil {
		if serr := in.save(); err == nil {
			err = serr
		}
	}
	return err
}

// ReadFrom sends the rest of the blob from r in the way PushBlob does
// when the ingest knows the whole Expected descriptor, committing it (see
// Repository.Ingest); otherwise it writes r through Write.
func (in *ingest) ReadFrom(r io.Reader) (int64, error) {
	if err := in.writable(); err != nil {
		return 0, err
	}
	e := in.expected
	if e.Digest == "" || e.Size < 0 {
		return blobio.Copy(in, r)
	}
	if err := in.endStream(); err != nil {
		return 0, err
	}
	if err := in.open(); err != nil {
		return 0, err
	}
	// r goes to Send as it is, so that a verifying source spares the
	// upload its hashing (content.Verifying).
	start := in.up.Offset()
	if err := in.up.Send(transport.WithRetryable(in.ctx), e, r); err != nil {
		in.forget() // Send cancelled the session
		return 0, err
	}
	got := ocispec.Descriptor{MediaType: e.MediaType, Digest: e.Digest, Size: e.Size}
	in.committed = &got
	in.forget()
	return e.Size - start, nil
}

// Commit ends the session with PUT ?digest=expected; the registry checks
// the digest. After a ReadFrom that committed, it checks size and
// expected against what was stored.
func (in *ingest) Commit(ctx context.Context, size int64, expected digest.Digest) (ocispec.Descriptor, error) {
	if in.done {
		return ocispec.Descriptor{}, errIngestDone
	}
	if err := expected.Validate(); err != nil {
		return ocispec.Descriptor{}, err
	}
	want := ocispec.Descriptor{Digest: expected, Size: size}
	if c := in.committed; c != nil {
		in.done = true
		switch {
		case size >= 0 && size != c.Size:
			return ocispec.Descriptor{}, &content.MismatchError{Want: want, GotSize: c.Size}
		case expected != c.Digest:
			return ocispec.Descriptor{}, fmt.Errorf("upload %s to %s was committed as %s, not %s: %w", in.ref, in.r.ref.Name(), c.Digest, expected, errcode.ErrDigestMismatch)
		}
		return *c, nil
	}
	if err := in.endStream(); err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := in.open(); err != nil {
		return ocispec.Descriptor{}, err
	}
	n := in.up.Offset()
	if size >= 0 && n != size {
		in.Abort(ctx)
		return ocispec.Descriptor{}, &content.MismatchError{Want: want, GotSize: n}
	}
	if err := in.up.Commit(ctx, ocispec.Descriptor{Digest: expected, Size: n}); err != nil {
		if errors.Is(err, errcode.ErrDigestMismatch) || errors.Is(err, errcode.ErrSizeMismatch) {
			in.Abort(ctx)
		}
		return ocispec.Descriptor{}, fmt.Errorf("upload %s to %s: %w", in.ref, in.r.ref.Name(), err)
	}
	in.done = true
	in.forget()
	return ocispec.Descriptor{MediaType: in.expected.MediaType, Digest: expected, Size: n}, nil
}

// Abort cancels the upload session (DELETE).
func (in *ingest) Abort(ctx context.Context) error {
	if in.done {
		return nil
	}
	in.done = true
	if st := in.stream; st != nil {
		in.stream = nil
		st.pw.CloseWithError(errors.New("upload aborted"))
		<-st.err
	}
	if in.up == nil {
		in.forget()
		return nil
	}
	err := in.up.Cancel(ctx)
	in.forget()
	return err
}

// Close ends the open PATCH and keeps the session for a later Ingest of
// the same ref (see Repository.Close).
func (in *ingest) Close() error {
	if in.done {
		return nil
	}
	in.done = true
	return in.endStream()
}

var _ store.Ingester = (*Repository)(nil)
