package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/reference"
)

// Location is a parsed location string: which kind of store, and where in
// it. The fields are what every kind needs; each kind documents which it
// uses.
type Location struct {
	// Kind is the kind of location (nil only for the zero Location).
	Kind *Kind
	// Ref is an image reference: the repository of a registry location,
	// the optional REF of a docker archive.
	Ref reference.Reference
	// Path is the directory or file of a local location.
	Path string
	// Tag is what a local location names inside itself: the TAG of an OCI
	// layout ("" when absent), or its digest as a string when written
	// oci:DIR@DIGEST.
	Tag string
}

// String writes the location back in the form ParseLocation reads.
func (l Location) String() string {
	if l.Kind == nil {
		return ""
	}
	return l.Kind.Format(l)
}

// TargetTag is the tag a copy gives the root it writes to l, "" for none
// (a registry reference by digest, a layout named by digest).
func (l Location) TargetTag() string {
	if l.Kind != nil && l.Kind.TargetTag != nil {
		return l.Kind.TargetTag(l)
	}
	return l.Tag
}

// OpenReader opens the store at l for reading, through its kind, bound to
// l: its Resolve("") answers the image l names. env goes to the kind's
// opener (see Env). A store that implements Closer must be closed by the
// caller.
func (l Location) OpenReader(ctx context.Context, env Env) (Reader, error) {
	if l.Kind == nil || l.Kind.OpenReader == nil {
		return nil, InvalidLocation(fmt.Errorf("%s: hoist cannot read %s locations", l, l.Kind))
	}
	return l.Kind.OpenReader(ctx, env, l)
}

// OpenWriter opens the store at l for writing, creating it where the kind
// does. A store that implements Closer must be closed by the caller after a
// successful write (an archive is complete only then); after a failure, an
// Aborter is aborted instead.
func (l Location) OpenWriter(ctx context.Context, env Env) (Writer, error) {
	if l.Kind == nil || l.Kind.OpenWriter == nil {
		return nil, InvalidLocation(fmt.Errorf("%s: hoist cannot write %s locations", l, l.Kind))
	}
	return l.Kind.OpenWriter(ctx, env, l)
}

// ErrInvalidLocation is matched (errors.Is) by errors for a location
// string that does not parse, or that names a location an operation cannot
// use (a blob read without a digest, a delete from a layout). The caller's
// input is wrong, so retrying cannot help. Such errors also match
// errdef.ErrInvalid.
var ErrInvalidLocation = errors.New("invalid location")

// InvalidLocation marks err as the caller's location being wrong: the
// result matches ErrInvalidLocation and errdef.ErrInvalid and reads as err
// does. Kinds use it for their parse errors and for locations they cannot
// open as asked.
func InvalidLocation(err error) error {
	if err == nil {
		return nil
	}
	return invalidLocation{err}
}

type invalidLocation struct{ err error }

func (e invalidLocation) Error() string { return e.err.Error() }
func (e invalidLocation) Unwrap() error { return e.err }
func (e invalidLocation) Is(target error) bool {
	return target == ErrInvalidLocation || target == errdef.ErrInvalid
}

// unhandled are prefixes of other tools' location syntax that no kind of
// hoist's reads; naming them gets a clear refusal instead of a confusing
// reference error.
var unhandled = []string{"oci-archive:", "dir:", "containers-storage:", "docker-daemon:"}

// ParseLocation reads a location string, the syntax of the CLI:
//
//	REF | docker://REF          a registry reference
//	oci:DIR[:TAG|@DIGEST]       an OCI image layout
//	docker-archive:FILE[:REF]   a docker save tarball
//
// (the kinds registered, see Kind). A string without a prefix may also be
// a local path: an existing regular file is a docker archive, and an
// existing directory an OCI layout when the string looks like a path (it
// starts with /, ./ or ../, or is . or ..) or is not an image reference;
// a plain name such as "alpine" stays an image even where a directory of
// that name exists (hoist pull creates one), so write ./alpine for the
// directory. A path-looking string that names nothing ("./out", "app.tar")
// is an error suggesting the prefixes to write. ParseLocation stats the
// file system for these cases only.
//
// Errors name the part that is wrong and match ErrInvalidLocation.
func ParseLocation(s string) (Location, error) {
	if k := prefixKind(s); k != nil {
		return parseAs(k, s, strings.TrimPrefix(s, k.Prefix))
	}
	for _, p := range unhandled {
		if strings.HasPrefix(s, p) {
			return Location{}, InvalidLocation(fmt.Errorf("%q: hoist does not handle %s locations; use %s", s, p, syntaxes()))
		}
	}
	if l, ok, err := parseLocal(s, false); ok {
		return l, err
	}
	k := bareKind()
	if k == nil {
		return Location{}, InvalidLocation(fmt.Errorf("%q: no location kind reads it; use %s", s, syntaxes()))
	}
	return parseAs(k, s, s)
}

// ParseLocalLocation reads s as ParseLocation does, except that a string
// without a prefix is always a local path, existing or to be created: a
// file is a docker archive, a directory an OCI layout, and a path that does
// not exist yet one of the kind its suffix claims (".tar": a docker
// archive), else an OCI layout, whose :TAG it may end with. Pull
// destinations and push sources are read so.
func ParseLocalLocation(s string) (Location, error) {
	if k := prefixKind(s); k != nil {
		return ParseLocation(s)
	}
	if l, ok, err := parseLocal(s, true); ok {
		return l, err
	}
	return ParseLocation(s)
}

func parseAs(k *Kind, s, rest string) (Location, error) {
	l, err := k.Parse(rest)
	if err != nil {
		return Location{}, InvalidLocation(err)
	}
	l.Kind = k
	return l, nil
}

// parseLocal reads s as a local path when it is one (ok), as
// ParseLocation and, with create, ParseLocalLocation describe.
func parseLocal(s string, create bool) (l Location, ok bool, err error) {
	suffix := suffixKind(s)
	pathy := looksLikePath(s) || suffix != nil
	fi, statErr := os.Stat(s)
	switch {
	case statErr == nil && fi.Mode().IsRegular():
		if k := claimKind(func(p LocalPaths) bool { return p.Files }); k != nil {
			return Location{Kind: k, Path: s}, true, nil
		}
	case statErr == nil && fi.IsDir():
		k := claimKind(func(p LocalPaths) bool { return p.Dirs })
		if k != nil && (create || pathy || !parsesBare(s)) {
			return Location{Kind: k, Path: s}, true, nil
		}
	case errors.Is(statErr, fs.ErrNotExist):
		if l, ok := existingPrefix(s); ok && (pathy || create) {
			return l, true, nil
		}
		if create {
			if suffix == nil {
				suffix = claimKind(func(p LocalPaths) bool { return p.Dirs })
			}
			if suffix != nil {
				l, err := parseAs(suffix, s, s)
				return l, true, err
			}
		}
		if pathy {
			return Location{}, true, InvalidLocation(fmt.Errorf("%q: no such file or directory; %s", s, suggest(s)))
		}
	case statErr != nil && (pathy || create):
		return Location{}, true, InvalidLocation(statErr)
	}
	return Location{}, false, nil
}

// existingPrefix reads s as a local kind's string whose path part exists
// ("./app:v1" for the layout ./app tagged v1).
func existingPrefix(s string) (Location, bool) {
	for _, k := range registered() {
		if !k.Local.Dirs && !k.Local.Files {
			continue
		}
		l, err := k.Parse(s)
		if err != nil || l.Path == s {
			continue
		}
		if fi, err := os.Stat(l.Path); err == nil && (k.Local.Dirs && fi.IsDir() || k.Local.Files && fi.Mode().IsRegular()) {
			l.Kind = k
			return l, true
		}
	}
	return Location{}, false
}

// looksLikePath reports whether s is written as a path, never as an image
// reference.
func looksLikePath(s string) bool {
	if s == "." || s == ".." || filepath.IsAbs(s) {
		return true
	}
	for _, p := range []string{"./", "../", "~/"} {
		if strings.HasPrefix(s, p) || strings.HasPrefix(s, filepath.FromSlash(p)) {
			return true
		}
	}
	return false
}

func parsesBare(s string) bool {
	k := bareKind()
	if k == nil {
		return false
	}
	_, err := k.Parse(s)
	return err == nil
}

// suggest says which location strings s could have meant.
func suggest(s string) string {
	var local, what []string
	bare := ""
	for _, k := range registered() {
		switch {
		case k.Bare && parsesBare(s):
			bare = fmt.Sprintf(", or %s%s for %s", k.Prefix, s, k.Description)
		case !k.Bare:
			local = append(local, k.Prefix+s)
			what = append(what, k.Description)
		}
	}
	return fmt.Sprintf("to create one there, write %s (%s)%s", strings.Join(local, " or "), strings.Join(what, ", "), bare)
}

func syntaxes() string {
	var out []string
	for _, k := range registered() {
		out = append(out, k.Syntax)
	}
	if len(out) < 2 {
		return strings.Join(out, "")
	}
	return strings.Join(out[:len(out)-1], ", ") + " or " + out[len(out)-1]
}

func prefixKind(s string) *Kind {
	for _, k := range registered() {
		if strings.HasPrefix(s, k.Prefix) {
			return k
		}
	}
	return nil
}

func bareKind() *Kind {
	return claimKind(nil)
}

// claimKind returns the first kind (by name) whose LocalPaths match, or the
// bare kind when match is nil.
func claimKind(match func(LocalPaths) bool) *Kind {
	for _, k := range registered() {
		if match == nil && k.Bare || match != nil && match(k.Local) {
			return k
		}
	}
	return nil
}

func suffixKind(s string) *Kind {
	for _, k := range registered() {
		for _, suf := range k.Local.Suffixes {
			if strings.HasSuffix(s, suf) && len(s) > len(suf) {
				return k
			}
		}
	}
	return nil
}
