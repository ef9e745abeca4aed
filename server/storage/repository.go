package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
)

// Repository is one repository of a Namespace. It implements
// store.Repository; it is a cheap handle, safe for concurrent use.
type Repository struct {
	ns   *Namespace
	name string
	root string
}

var _ store.Repository = (*Repository)(nil)

// Reference returns the repository's name.
func (r *Repository) Reference() string { return r.name }

// Registry returns the host given with WithRegistry (store.Mounter).
func (r *Repository) Registry() string { return r.ns.cfg.registry }

// Repository returns the repository's name (store.Mounter).
func (r *Repository) Repository() string { return r.name }

func (r *Repository) blobLink(d digest.Digest) string {
	return path.Join(r.root, dirBlobs, string(d.Algorithm()), d.Encoded())
}

func (r *Repository) manifestLink(d digest.Digest) string {
	return path.Join(r.root, dirManifests, string(d.Algorithm()), d.Encoded())
}

func (r *Repository) tagPath(tag string) string { return path.Join(r.root, dirTags, tag) }

// exists reports whether the repository holds anything at all.
func (r *Repository) exists(ctx context.Context) (bool, error) {
	_, err := r.ns.d.Stat(ctx, r.root)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("repository %s: %w", r.name, err)
	}
	return true, nil
}

// notFound is the error for something the repository lacks. It says
// whether the repository itself is missing, which the HTTP API answers
// differently (NAME_UNKNOWN).
func (r *Repository) notFound(ctx context.Context, what string) error {
	if ok, err := r.exists(ctx); err == nil && !ok {
		return &NotFoundError{Repository: r.name, What: what, NoRepository: true}
	}
	return &NotFoundError{Repository: r.name, What: what}
}

// NotFoundError is the error for a tag, manifest, blob or upload a
// repository does not hold. It matches errdef.ErrNotFound.
type NotFoundError struct {
	Repository string
	What       string
	// NoRepository is set when the repository holds nothing at all.
	NoRepository bool
}

func (e *NotFoundError) Error() string {
	if e.NoRepository {
		return fmt.Sprintf("repository %s not found (looking for %s)", e.Repository, e.What)
	}
	return fmt.Sprintf("%s not found in repository %s", e.What, e.Repository)
}

// Is matches errdef.ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == errdef.ErrNotFound }

// link returns the media type recorded for d: "" for a blob, the manifest
// media type for a manifest. ok is false when the repository has neither.
func (r *Repository) link(ctx context.Context, d digest.Digest) (mediaType string, manifest, ok bool, err error) {
	if err := validDigest(d); err != nil {
		return "", false, false, err
	}
	b, err := r.ns.d.GetContent(ctx, r.manifestLink(d))
	if err == nil {
		return string(b), true, true, nil
	}
	if !isNotFound(err) {
		return "", false, false, err
	}
	if _, err := r.ns.d.Stat(ctx, r.blobLink(d)); err == nil {
		return "", false, true, nil
	} else if !isNotFound(err) {
		return "", false, false, err
	}
	return "", false, false, nil
}

// blobLinked is link for a digest asked for as a blob (GET or HEAD
// .../blobs/, a FetchFrom of a layer): the blob link first, the manifest
// link only when there is none, one request fewer for every layer.
func (r *Repository) blobLinked(ctx context.Context, d digest.Digest) (mediaType string, ok bool, err error) {
	if err := validDigest(d); err != nil {
		return "", false, err
	}
	if _, err := r.ns.d.Stat(ctx, r.blobLink(d)); err == nil {
		return "", true, nil
	} else if !isNotFound(err) {
		return "", false, err
	}
	mt, _, ok, err := r.link(ctx, d)
	return mt, ok, err
}

// Stat describes the blob or manifest d names in this repository.
func (r *Repository) Stat(ctx context.Context, d digest.Digest) (ocispec.Descriptor, error) {
	mt, ok, err := r.blobLinked(ctx, d)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if !ok {
		return ocispec.Descriptor{}, r.notFound(ctx, "blob "+d.String())
	}
	fi, err := r.ns.d.Stat(ctx, blobData(d))
	if isNotFound(err) {
		return ocispec.Descriptor{}, r.notFound(ctx, "blob "+d.String())
	}
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("blob %s: %w", d, err)
	}
	return ocispec.Descriptor{MediaType: mt, Digest: d, Size: fi.Size()}, nil
}

// Exists reports whether the repository holds desc.
func (r *Repository) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	_, err := r.Stat(ctx, desc.Digest)
	if errors.Is(err, errdef.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Resolve returns the descriptor of the manifest ref names: a tag or a
// digest. The empty ref names nothing in a registry repository.
func (r *Repository) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	if ref == "" {
		return ocispec.Descriptor{}, fmt.Errorf("%w: resolving in %s needs a tag or digest", errdef.ErrInvalid, r.name)
	}
	if strings.Contains(ref, ":") {
		d := digest.Digest(ref)
		mt, manifest, ok, err := r.link(ctx, d)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		if !ok || !manifest {
			return ocispec.Descriptor{}, r.notFound(ctx, "manifest "+ref)
		}
		fi, err := r.ns.d.Stat(ctx, blobData(d))
		if err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("manifest %s: %w", d, err)
		}
		return ocispec.Descriptor{MediaType: mt, Digest: d, Size: fi.Size()}, nil
	}
	if err := reference.ValidateTag(ref); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("%w: %v", errdef.ErrInvalid, err)
	}
	b, err := r.ns.d.GetContent(ctx, r.tagPath(ref))
	if isNotFound(err) {
		return ocispec.Descriptor{}, r.notFound(ctx, "tag "+ref)
	}
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("tag %s: %w", ref, err)
	}
	var desc ocispec.Descriptor
	if err := json.Unmarshal(b, &desc); err != nil || desc.Digest.Validate() != nil {
		return ocispec.Descriptor{}, fmt.Errorf("tag %s of %s is damaged in storage (%q)", ref, r.name, b)
	}
	return desc, nil
}

// TagTime returns when tag was last written (Tag, PushTagged): a pull-
// through mirror's record of when it last checked the tag upstream. A
// missing tag is an error matching errdef.ErrNotFound.
func (r *Repository) TagTime(ctx context.Context, tag string) (time.Time, error) {
	if err := reference.ValidateTag(tag); err != nil {
		return time.Time{}, fmt.Errorf("%w: %v", errdef.ErrInvalid, err)
	}
	fi, err := r.ns.d.Stat(ctx, r.tagPath(tag))
	if isNotFound(err) {
		return time.Time{}, r.notFound(ctx, "tag "+tag)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("tag %s: %w", tag, err)
	}
	return fi.ModTime(), nil
}

// BlobRedirect returns where the client can GET blob d directly (the
// driver's redirect URL) when WithRedirects is on and the driver has one,
// and "" otherwise (server/registry's BlobRedirector). With redirects on
// it checks that the repository holds d (a *NotFoundError when not), by
// its link alone: the bytes are the object store's to serve, or to
// answer 404 for.
func (r *Repository) BlobRedirect(req *http.Request, d digest.Digest) (string, error) {
	if !r.ns.cfg.redirects {
		return "", nil
	}
	_, ok, err := r.blobLinked(req.Context(), d)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", r.notFound(req.Context(), "blob "+d.String())
	}
	u, err := r.ns.d.RedirectURL(req, blobData(d))
	if err != nil {
		return "", fmt.Errorf("blob %s: redirect URL: %w", d, err)
	}
	return u, nil
}

// Fetch returns the content of desc, verified as it is read.
func (r *Repository) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	rc, err := r.FetchFrom(ctx, desc, 0)
	if err != nil {
		return nil, err
	}
	v, err := content.NewVerifier(rc, desc)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return struct {
		*content.Verifier
		io.Closer
	}{v, rc}, nil
}

// FetchFrom returns the bytes of desc from offset on, unverified.
func (r *Repository) FetchFrom(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	var ok bool
	var err error
	if content.KindOf(desc.MediaType) != content.KindUnknown {
		_, _, ok, err = r.link(ctx, desc.Digest)
	} else {
		_, ok, err = r.blobLinked(ctx, desc.Digest)
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, r.notFound(ctx, "blob "+desc.Digest.String())
	}
	rc, err := r.ns.d.Reader(ctx, blobData(desc.Digest), offset)
	if isNotFound(err) {
		return nil, r.notFound(ctx, "blob "+desc.Digest.String())
	}
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	return rc, nil
}

// Push stores desc read from r: a manifest (decided by desc.MediaType) is
// checked and linked, a blob is ingested and verified (store.PushIngest).
func (r *Repository) Push(ctx context.Context, desc ocispec.Descriptor, rd io.Reader) error {
	if content.KindOf(desc.MediaType) != content.KindUnknown {
		_, err := r.PutManifest(ctx, desc, rd)
		return err
	}
	if err := validDigest(desc.Digest); err != nil {
		return err
	}
	return store.PushIngest(ctx, r, desc, rd)
}

// Tag makes tag name the manifest desc, which must be in the repository.
// The write is atomic; the last writer wins.
func (r *Repository) Tag(ctx context.Context, desc ocispec.Descriptor, tag string) error {
	if tag == "" {
		return nil
	}
	if err := reference.ValidateTag(tag); err != nil {
		return fmt.Errorf("%w: %v", errdef.ErrInvalid, err)
	}
	got, err := r.Resolve(ctx, desc.Digest.String())
	if err != nil {
		return err
	}
	return r.writeTag(ctx, tag, got)
}

// writeTag makes tag name the manifest desc, known to be stored.
func (r *Repository) writeTag(ctx context.Context, tag string, desc ocispec.Descriptor) error {
	b, err := json.Marshal(ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size})
	if err != nil {
		return err
	}
	return r.ns.putAtomic(ctx, r.tagPath(tag), b)
}

// PushTagged stores the manifest desc and tags it.
func (r *Repository) PushTagged(ctx context.Context, desc ocispec.Descriptor, rd io.Reader, tag string) error {
	if tag != "" {
		if err := reference.ValidateTag(tag); err != nil {
			return fmt.Errorf("%w: %v", errdef.ErrInvalid, err)
		}
	}
	if content.KindOf(desc.MediaType) == content.KindUnknown {
		if err := r.Push(ctx, desc, rd); err != nil {
			return err
		}
		return r.Tag(ctx, desc, tag)
	}
	m, err := r.PutManifest(ctx, desc, rd)
	if err != nil || tag == "" {
		return err
	}
	// What Tag would resolve: the media type the link records, the
	// digest it was stored by, the size of its bytes.
	return r.writeTag(ctx, tag, ocispec.Descriptor{MediaType: m.Descriptor.MediaType, Digest: m.Descriptor.Digest, Size: int64(len(m.Raw))})
}

// Tags lists the repository's tags in lexical order, paged.
func (r *Repository) Tags(ctx context.Context, p store.Page) ([]string, error) {
	kids, err := r.ns.d.List(ctx, path.Join(r.root, dirTags))
	if isNotFound(err) {
		if ok, err := r.exists(ctx); err != nil {
			return nil, err
		} else if !ok {
			return nil, r.notFound(ctx, "tags")
		}
		return []string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tags of %s: %w", r.name, err)
	}
	tags := make([]string, 0, len(kids))
	for _, k := range kids {
		tags = append(tags, path.Base(k))
	}
	slices.Sort(tags)
	return store.PageOf(tags, p), nil
}

// Untag removes tag and keeps the manifest it named.
func (r *Repository) Untag(ctx context.Context, tag string) error {
	if err := reference.ValidateTag(tag); err != nil {
		return fmt.Errorf("%w: %v", errdef.ErrInvalid, err)
	}
	err := r.ns.d.Delete(ctx, r.tagPath(tag))
	if isNotFound(err) {
		return r.notFound(ctx, "tag "+tag)
	}
	return err
}

// Delete removes a manifest (desc.MediaType a manifest type), with its
// tags and its entry in its subject's referrers, or a blob's link. The
// blob's bytes stay until GC finds nothing else refers to them.
func (r *Repository) Delete(ctx context.Context, desc ocispec.Descriptor) error {
	if err := validDigest(desc.Digest); err != nil {
		return err
	}
	if content.KindOf(desc.MediaType) == content.KindUnknown {
		err := r.ns.d.Delete(ctx, r.blobLink(desc.Digest))
		if isNotFound(err) {
			return r.notFound(ctx, "blob "+desc.Digest.String())
		}
		return err
	}
	got, err := r.Resolve(ctx, desc.Digest.String())
	if err != nil {
		return err
	}
	if raw, err := r.ns.d.GetContent(ctx, blobData(got.Digest)); err == nil {
		if m, err := content.Decode(got.MediaType, raw); err == nil {
			if s := m.Subject(); s != nil {
				if err := r.ns.deleteIfExists(ctx, r.referrerPath(s.Digest, got.Digest)); err != nil {
					return err
				}
			}
		}
	}
	tags, err := r.Tags(ctx, store.Page{})
	if err != nil && !errors.Is(err, errdef.ErrNotFound) {
		return err
	}
	for _, t := range tags {
		if d, err := r.Resolve(ctx, t); err == nil && d.Digest == got.Digest {
			if err := r.ns.deleteIfExists(ctx, r.tagPath(t)); err != nil {
				return err
			}
		}
	}
	return r.ns.deleteIfExists(ctx, r.manifestLink(got.Digest))
}

// Mount links the blob desc into this repository from repository from, if
// from holds it. With from "" the blob is taken from any repository of the
// namespace that holds it (the spec's automatic mount). It reports false
// when there is nothing to mount.
func (r *Repository) Mount(ctx context.Context, desc ocispec.Descriptor, from string) (bool, error) {
	if err := validDigest(desc.Digest); err != nil {
		return false, err
	}
	if from != "" {
		src, err := r.ns.repository(from)
		if err != nil {
			return false, err
		}
		if _, err := r.ns.d.Stat(ctx, src.blobLink(desc.Digest)); isNotFound(err) {
			return false, nil
		} else if err != nil {
			return false, err
		}
	}
	if err := r.ns.touchUsed(ctx, desc.Digest); err != nil {
		return false, err
	}
	if _, err := r.ns.d.Stat(ctx, blobData(desc.Digest)); isNotFound(err) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, r.linkBlob(ctx, desc.Digest)
}

// linkBlob records that the repository holds blob d. A link is empty and
// never listed by a client, so the driver's own PutContent (whole or not
// at all on every driver) is enough; no move through tmp/.
func (r *Repository) linkBlob(ctx context.Context, d digest.Digest) error {
	if err := r.ns.d.PutContent(ctx, r.blobLink(d), nil); err != nil {
		return fmt.Errorf("linking blob %s into %s: %w", d, r.name, err)
	}
	return nil
}

// touchUsed refreshes blob d's used file, the fence GC checks before and
// after it takes a blob away (see gc.go).
func (ns *Namespace) touchUsed(ctx context.Context, d digest.Digest) error {
	if err := ns.d.PutContent(ctx, blobUsed(d), nil); err != nil {
		return fmt.Errorf("blob %s: %w", d, err)
	}
	return nil
}
