package hoist

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/archive"
)

// DefaultArtifactType is the artifact type PushArtifact gives an artifact
// without WithArtifactType: oras's default, so both tools agree.
const DefaultArtifactType = "application/vnd.unknown.artifact.v1"

// DefaultFileMediaType is the media type of a file pushed without one
// (FILE:TYPE names one): oras's, so oras pull treats it as a file.
const DefaultFileMediaType = "application/vnd.oci.image.layer.v1.tar"

// WithArtifactType is the artifact type PushArtifact gives its manifest
// (default DefaultArtifactType).
func WithArtifactType(t string) Option { return func(o *options) { o.artifactType = t } }

// WithAnnotations adds annotations to the manifest Attach or PushArtifact
// writes. Several calls add up; a later value for a key wins.
func WithAnnotations(a map[string]string) Option {
	return func(o *options) {
		m := maps.Clone(o.annotations) // a session default stays as it was
		if m == nil {
			m = map[string]string{}
		}
		maps.Copy(m, a)
		o.annotations = m
	}
}

// ArtifactResult is what Attach, PushArtifact and PullArtifact did.
type ArtifactResult struct {
	// Location is where the artifact is, as parsed.
	Location store.Location `json:"-"`
	// Reference is Location as a string.
	Reference string `json:"reference"`
	// Descriptor is the artifact's manifest.
	Descriptor ocispec.Descriptor `json:"descriptor"`
	// Subject is what an attached artifact refers to.
	Subject *ocispec.Descriptor `json:"subject,omitempty"`
	// Tag is the tag PushArtifact gave it ("" for Attach and pulls).
	Tag string `json:"tag,omitempty"`
	// Files are the artifact's files, in layer order: their title
	// (org.opencontainers.image.title, the path relative to the
	// directory) and blob.
	Files []ArtifactFile `json:"files"`
	// Skipped counts layers PullArtifact did not write because they have
	// no title.
	Skipped int `json:"skipped,omitempty"`
}

// ArtifactFile is one file of an artifact.
type ArtifactFile struct {
	// Name is the file's title: a slash-separated relative path.
	Name string `json:"name"`
	// Descriptor is the layer holding it.
	Descriptor ocispec.Descriptor `json:"descriptor"`
}

// Attach pushes an artifact of files to the repository or layout ref
// names, with its subject the manifest ref names (a tag or digest; with
// WithPlatforms, the image of that platform from an index): a referrer,
// such as an SBOM or a signature. The manifest is an image-spec 1.1
// artifact: artifactType t, the empty config descriptor, one layer per
// file with the file's name as its org.opencontainers.image.title, and
// WithAnnotations' annotations. A file is PATH or PATH:MEDIATYPE (default
// DefaultFileMediaType); with no files the one layer is the empty
// descriptor. A registry without the referrers API gets the artifact
// added to the subject's referrers tag; a layout lists it in index.json.
func (s *Session) Attach(ctx context.Context, ref, t string, files []string, opts ...Option) (*ArtifactResult, error) {
	ctx = s.bounded(ctx)
	o, err := s.call(opts)
	if err != nil {
		return nil, err
	}
	if t == "" {
		return nil, fmt.Errorf("attach to %s: an artifact type is required (a media type such as application/vnd.example.sbom+json)", ref)
	}
	return s.pushArtifact(ctx, ref, true, t, files, o)
}

// PushArtifact pushes an artifact of files to the repository or layout
// ref names and tags it with ref's tag (latest when it has none): oras
// push's layout, so oras pull reads it (see Attach for the manifest and
// the files). WithArtifactType sets its type.
func (s *Session) PushArtifact(ctx context.Context, ref string, files []string, opts ...Option) (*ArtifactResult, error) {
	ctx = s.bounded(ctx)
	o, err := s.call(opts)
	if err != nil {
		return nil, err
	}
	t := o.artifactType
	if t == "" {
		t = DefaultArtifactType
	}
	return s.pushArtifact(ctx, ref, false, t, files, o)
}

func (s *Session) pushArtifact(ctx context.Context, ref string, attach bool, t string, files []string, o options) (res *ArtifactResult, err error) {
	l, err := store.ParseLocation(ref)
	if err != nil {
		return nil, err
	}
	if l.Kind == archive.Kind {
		return nil, store.InvalidLocation(fmt.Errorf("%s is a docker archive, which holds images only; push the artifact to a registry or an OCI layout (oci:DIR)", l))
	}
	layers, err := artifactFiles(files)
	if err != nil {
		return nil, err
	}
	st, err := s.OpenLocationWriter(ctx, l)
	if err != nil {
		return nil, err
	}
	defer func() {
		if ferr := st.finish(err == nil); err == nil && ferr != nil {
			res, err = nil, ferr
		}
	}()
	w := st.Writer
	res = &ArtifactResult{Location: l, Reference: l.String()}
	if attach {
		r, ok := w.(store.Reader)
		if !ok {
			return nil, fmt.Errorf("attach to %s: it cannot be read, so there is no subject to refer to", l)
		}
		sub, err := r.Resolve(ctx, "") // the image the location names
		if err != nil {
			return nil, err
		}
		if len(o.platforms) > 0 {
			if sub, err = pickPlatform(ctx, r, sub, o.platforms); err != nil {
				return nil, err
			}
		}
		res.Subject = &ocispec.Descriptor{MediaType: sub.MediaType, Digest: sub.Digest, Size: sub.Size}
	}
	if err := pushIfMissing(ctx, w, content.EmptyDescriptor(), func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(content.EmptyJSON)), nil
	}); err != nil {
		return nil, err
	}
	var descs []ocispec.Descriptor
	for _, f := range layers {
		if err := pushIfMissing(ctx, w, f.desc, func() (io.ReadCloser, error) { return os.Open(f.path) }); err != nil {
			return nil, fmt.Errorf("push %s: %w", f.path, err)
		}
		descs = append(descs, f.desc)
		res.Files = append(res.Files, ArtifactFile{Name: f.desc.Annotations[ocispec.AnnotationTitle], Descriptor: f.desc})
	}
	raw, desc, err := content.NewArtifact(content.Artifact{ArtifactType: t, Layers: descs, Subject: res.Subject, Annotations: o.annotations})
	if err != nil {
		return nil, fmt.Errorf("artifact for %s: %w", l, err)
	}
	res.Descriptor = desc
	if !attach {
		res.Tag = l.TargetTag()
	}
	if tp, ok := w.(store.TagPusher); ok && res.Tag != "" {
		err = tp.PushTagged(ctx, desc, bytes.NewReader(raw), res.Tag)
	} else if err = w.Push(ctx, desc, bytes.NewReader(raw)); err == nil {
		err = w.Tag(ctx, desc, res.Tag)
	}
	if err != nil {
		return nil, fmt.Errorf("push the artifact manifest to %s: %w", l, err)
	}
	return res, nil
}

// pickPlatform returns the image of platforms[0] from the index desc.
func pickPlatform(ctx context.Context, r store.Reader, desc ocispec.Descriptor, platforms []string) (ocispec.Descriptor, error) {
	want, err := parsePlatforms(platforms[:1])
	if err != nil {
		return desc, err
	}
	m, err := FetchManifest(ctx, r, desc)
	if err != nil {
		return desc, err
	}
	if m.Index == nil {
		return desc, optionErrorf("WithPlatforms", "%s is an image manifest, not an index: there is no platform to pick", desc.Digest)
	}
	d, ok := content.SelectPlatform(m.Index, want[0])
	if !ok {
		return desc, optionErrorf("WithPlatforms", "%s has no image for %s", desc.Digest, platforms[0])
	}
	return d, nil
}

// pushIfMissing pushes desc, opened by open, unless w has it.
func pushIfMissing(ctx context.Context, w store.Writer, desc ocispec.Descriptor, open func() (io.ReadCloser, error)) error {
	ok, err := w.Exists(ctx, desc)
	if err != nil || ok {
		return err
	}
	rc, err := open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return w.Push(ctx, desc, rc)
}

// artifactFile is a file to push, described.
type artifactFile struct {
	path string
	desc ocispec.Descriptor
}

// artifactFiles reads and describes files ("PATH" or "PATH:MEDIATYPE"),
// titling each with its path as given when that is relative and stays
// below the current directory, else with its base name. Two files with
// one title are an error, as is a directory.
func artifactFiles(files []string) ([]artifactFile, error) {
	var out []artifactFile
	titles := map[string]string{}
	for _, spec := range files {
		p, mt := splitFileSpec(spec)
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("artifact file: %w", err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("artifact file %s is not a regular file; to push a directory, make a tar of it first", p)
		}
		title := filepath.ToSlash(filepath.Clean(p))
		if !filepath.IsLocal(p) {
			title = filepath.Base(p)
		}
		if other, dup := titles[title]; dup {
			return nil, fmt.Errorf("artifact files %s and %s would both be named %q; rename one", other, p, title)
		}
		titles[title] = p
		d, err := describeFile(p, mt)
		if err != nil {
			return nil, err
		}
		d.Annotations = map[string]string{ocispec.AnnotationTitle: title}
		out = append(out, artifactFile{path: p, desc: d})
	}
	return out, nil
}

// splitFileSpec splits "PATH:MEDIATYPE" where what follows the last colon
// is a media type (type/subtype) and PATH is not itself all of spec.
func splitFileSpec(spec string) (string, string) {
	if i := strings.LastIndex(spec, ":"); i > 0 && content.CheckMediaType(spec[i+1:]) == nil {
		if _, err := os.Stat(spec); err != nil {
			return spec[:i], spec[i+1:]
		}
	}
	return spec, DefaultFileMediaType
}

// describeFile hashes the file at p.
func describeFile(p, mediaType string) (ocispec.Descriptor, error) {
	f, err := os.Open(p)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("artifact file: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("read %s: %w", p, err)
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(h.Sum(nil))), Size: n}, nil
}

// errNotArtifact marks a manifest PullArtifact cannot unpack.
var errNotArtifact = errors.New("not an artifact of files")

// Attach pushes an artifact referring to the manifest ref names; see
// Session.Attach.
func Attach(ctx context.Context, ref, artifactType string, files []string, opts ...Option) (*ArtifactResult, error) {
	return oneCall(opts, func(s *Session) (*ArtifactResult, error) { return s.Attach(ctx, ref, artifactType, files) })
}

// PushArtifact pushes an artifact of files to ref; see
// Session.PushArtifact.
func PushArtifact(ctx context.Context, ref string, files []string, opts ...Option) (*ArtifactResult, error) {
	return oneCall(opts, func(s *Session) (*ArtifactResult, error) { return s.PushArtifact(ctx, ref, files) })
}
