package ocilayout

import (
	"context"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
)

// Kind is the OCI layout kind of location, oci:DIR[:TAG|@DIGEST], and an
// existing directory named without a prefix (see store.ParseLocation).
// Its Location's Path is DIR and Tag is TAG, or DIGEST as a string.
// Reading opens an existing layout (Open); writing creates one (Create).
var Kind = &store.Kind{
	Name:        "oci",
	Prefix:      "oci:",
	Syntax:      "oci:DIR[:TAG]",
	Description: "an OCI layout",
	Local:       store.LocalPaths{Dirs: true},
	Parse:       parseLocation,
	Format:      formatLocation,
	TargetTag: func(l store.Location) string {
		if strings.Contains(l.Tag, ":") { // a digest names, never tags
			return ""
		}
		return l.Tag
	},
	OpenReader: func(ctx context.Context, _ store.Env, l store.Location) (store.Reader, error) {
		return Open(ctx, l.Path, WithReference(l.Tag))
	},
	OpenWriter: func(ctx context.Context, _ store.Env, l store.Location) (store.Writer, error) {
		return Create(ctx, l.Path, WithReference(l.Tag))
	},
}

func init() { store.Register(Kind) }

func parseLocation(rest string) (store.Location, error) {
	s := "oci:" + rest
	l := store.Location{Path: rest}
	if i := strings.LastIndex(rest, "@"); i >= 0 && strings.Contains(rest[i:], ":") {
		d := digest.Digest(rest[i+1:])
		if err := d.Validate(); err != nil {
			return store.Location{}, fmt.Errorf("%q: invalid digest %q: %v", s, d, err)
		}
		l.Path, l.Tag = rest[:i], d.String()
	} else if i := strings.LastIndex(rest, ":"); i >= 0 && !strings.Contains(rest[i:], "/") {
		l.Path, l.Tag = rest[:i], rest[i+1:]
		if err := reference.ValidateTag(l.Tag); err != nil {
			return store.Location{}, fmt.Errorf("%q: %w", s, err)
		}
	}
	if l.Path == "" {
		return store.Location{}, fmt.Errorf("%q: the layout directory is missing; write oci:DIR[:TAG]", s)
	}
	return l, nil
}

func formatLocation(l store.Location) string {
	switch {
	case l.Tag == "":
		return "oci:" + l.Path
	case strings.Contains(l.Tag, ":"):
		return "oci:" + l.Path + "@" + l.Tag
	}
	return "oci:" + l.Path + ":" + l.Tag
}
