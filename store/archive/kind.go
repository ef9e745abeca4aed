package archive

import (
	"context"
	"fmt"
	"strings"

	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
)

// Kind is the docker archive kind of location, docker-archive:FILE[:REF],
// and an existing file or a path ending in .tar named without a prefix
// (see store.ParseLocation). Its Location's Path is FILE and Ref is REF
// (zero when absent). Reading opens the archive (Open) and resolves REF,
// or its only image; writing creates it (Create) naming the image REF. A
// writer is complete only once closed; store.Aborter removes it after a
// failed copy.
var Kind = &store.Kind{
	Name:        "docker-archive",
	Prefix:      "docker-archive:",
	Syntax:      "docker-archive:FILE[:REF]",
	Description: "a docker archive",
	Local:       store.LocalPaths{Files: true, Suffixes: []string{".tar"}},
	Parse:       parseLocation,
	Format: func(l store.Location) string {
		if l.Ref.Repository != "" {
			return "docker-archive:" + l.Path + ":" + l.Ref.Familiar()
		}
		return "docker-archive:" + l.Path
	},
	TargetTag: func(l store.Location) string { return l.Ref.Tag },
	OpenReader: func(ctx context.Context, _ store.Env, l store.Location) (store.Reader, error) {
		return Open(ctx, l.Path, withLocation(l)...)
	},
	OpenWriter: func(ctx context.Context, _ store.Env, l store.Location) (store.Writer, error) {
		return Create(ctx, l.Path, withLocation(l)...)
	},
}

func init() { store.Register(Kind) }

// withLocation binds a store to l's REF, when it has one.
func withLocation(l store.Location) []Option {
	if l.Ref.Repository == "" {
		return nil
	}
	return []Option{WithReference(l.Ref)}
}

func parseLocation(rest string) (store.Location, error) {
	s := "docker-archive:" + rest
	l := store.Location{Path: rest}
	if path, ref, ok := strings.Cut(rest, ":"); ok {
		l.Path = path
		r, err := reference.Parse(ref)
		if err != nil {
			return store.Location{}, fmt.Errorf("%q: the image reference after the file name: %w", s, err)
		}
		if r.Digest != "" {
			return store.Location{}, fmt.Errorf("%q: a docker archive names images by tag, not digest", s)
		}
		l.Ref = r
	}
	if l.Path == "" {
		return store.Location{}, fmt.Errorf("%q: the archive file is missing; write docker-archive:FILE[:REF]", s)
	}
	return l, nil
}
