package hoist

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/internal/blobio"
	"github.com/hoist-dev/hoist/store"
)

// orasUnpack is the annotation oras puts on a layer holding a directory
// it packed as a gzipped tar.
const orasUnpack = "io.deis.oras.content.unpack"

// UnsafeTitleError is PullArtifact's error for a layer whose title would
// put its file outside the directory (an absolute path, a ".." element)
// or cannot name a file. Nothing was written.
type UnsafeTitleError struct {
	// Title is the org.opencontainers.image.title the layer carries.
	Title string
	// Layer is the layer's digest.
	Layer string
	// Why says what is wrong with it.
	Why string
}

func (e *UnsafeTitleError) Error() string {
	return fmt.Sprintf("artifact layer %s is titled %q, which %s; refusing to write it (nothing was written)", e.Layer, e.Title, e.Why)
}

// Is makes the error match errors.Is(err, errNotArtifact)'s kind of refusal.
func (e *UnsafeTitleError) Is(target error) bool { return target == errNotArtifact }

// titlePath checks a layer's title and returns it as a relative,
// slash-separated path that stays inside the directory it is joined to.
func titlePath(title, layer string) (string, error) {
	bad := func(why string) error { return &UnsafeTitleError{Title: title, Layer: layer, Why: why} }
	switch {
	case title == "":
		return "", bad("is empty")
	case strings.ContainsRune(title, 0):
		return "", bad("holds a NUL byte")
	case strings.Contains(title, `\`):
		return "", bad(`holds a backslash, a path separator on Windows`)
	case path.IsAbs(title):
		return "", bad("is an absolute path")
	}
	for _, el := range strings.Split(title, "/") {
		if el == ".." {
			return "", bad(`climbs out of the directory with ".."`)
		}
	}
	p := path.Clean(title)
	if p == "." || !filepath.IsLocal(filepath.FromSlash(p)) {
		return "", bad("does not name a file inside the directory")
	}
	return p, nil
}

// PullArtifact writes the files of the artifact ref names (a registry
// image or a layout; oras push's layout) into dir, creating it: each
// layer with an org.opencontainers.image.title becomes the file it names,
// relative to dir; layers without one are counted in Skipped. Every title
// is checked before anything is written: one that is absolute, climbs out
// with "..", or repeats another is an error (*UnsafeTitleError for the
// first two), and no file is written outside dir even through a symbolic
// link inside it. Each file is verified against its digest as it streams
// into a temporary file beside its place, and renamed over any file of
// that name only once complete. A directory oras packed is refused.
func (s *Session) PullArtifact(ctx context.Context, ref, dir string, opts ...Option) (*ArtifactResult, error) {
	r, err := s.resolve(ctx, ref, opts)
	if err != nil {
		return nil, err
	}
	defer r.st.Close()
	if r.m.Image == nil {
		return nil, fmt.Errorf("%s is not an artifact's image manifest but of kind %s (pick an image of an index with WithPlatforms): %w", ref, r.m.Kind, errNotArtifact)
	}
	res := &ArtifactResult{Location: r.st.Location, Reference: ref, Descriptor: r.desc, Subject: r.m.Subject()}
	res.Descriptor.ArtifactType = r.m.ArtifactType()
	seen := map[string]bool{}
	var files []ArtifactFile
	for _, l := range r.m.Image.Layers {
		title, ok := l.Annotations[ocispec.AnnotationTitle]
		if !ok {
			res.Skipped++
			continue
		}
		p, err := titlePath(title, l.Digest.String())
		if err != nil {
			return nil, err
		}
		if l.Annotations[orasUnpack] == "true" {
			return nil, fmt.Errorf("artifact layer %s (%s) is a directory oras packed as a tar; hoist artifact pull writes files only: %w", l.Digest, title, errNotArtifact)
		}
		if seen[p] {
			return nil, fmt.Errorf("artifact %s has two layers titled %q; refusing to choose (nothing was written): %w", ref, p, errNotArtifact)
		}
		seen[p] = true
		files = append(files, ArtifactFile{Name: p, Descriptor: l})
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("artifact directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("artifact directory: %w", err)
	}
	defer root.Close()
	for _, f := range files {
		if err := writeArtifactFile(ctx, r.st.Reader, root, f); err != nil {
			return nil, fmt.Errorf("write %s in %s: %w", f.Name, dir, err)
		}
		res.Files = append(res.Files, f)
	}
	return res, nil
}

// writeArtifactFile streams f's blob into a temporary file in its
// directory under root, verified, and renames it into place.
func writeArtifactFile(ctx context.Context, src store.Reader, root *os.Root, f ArtifactFile) (err error) {
	name := filepath.FromSlash(f.Name)
	if d := filepath.Dir(name); d != "." {
		if err := root.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	var suffix [6]byte
	rand.Read(suffix[:])
	tmp := filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+".hoist-"+hex.EncodeToString(suffix[:]))
	out, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			out.Close()
			root.Remove(tmp)
		}
	}()
	rc, err := src.Fetch(ctx, f.Descriptor)
	if err != nil {
		return err
	}
	defer rc.Close()
	if _, err := blobio.Copy(out, blobio.ContextReader(ctx, rc)); err != nil {
		return err
	}
	if err := out.Sync(); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if fi, err := root.Lstat(name); err == nil && fi.IsDir() {
		return fmt.Errorf("a directory of that name is in the way")
	}
	return root.Rename(tmp, name)
}

// IsNotArtifact reports whether err is PullArtifact's refusal of what it
// was given: not an image manifest, an unsafe or repeated title, a packed
// directory.
func IsNotArtifact(err error) bool { return errors.Is(err, errNotArtifact) }

// PullArtifact writes the files of the artifact ref names into dir; see
// Session.PullArtifact.
func PullArtifact(ctx context.Context, ref, dir string, opts ...Option) (*ArtifactResult, error) {
	return oneCall(opts, func(s *Session) (*ArtifactResult, error) { return s.PullArtifact(ctx, ref, dir) })
}
