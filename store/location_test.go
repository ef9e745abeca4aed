package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/archive"
	"github.com/hoist-dev/hoist/store/ocilayout"
	"github.com/hoist-dev/hoist/store/remote"
)

type locationCase struct {
	in   string
	kind *store.Kind
	path string
	tag  string
	ref  string
	err  string
}

func checkLocations(t *testing.T, parse func(string) (store.Location, error), tests []locationCase) {
	t.Helper()
	for _, tc := range tests {
		l, err := parse(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one mentioning %q", tc.in, err, tc.err)
			} else if !errors.Is(err, store.ErrInvalidLocation) || !errors.Is(err, errdef.ErrInvalid) {
				t.Errorf("%q: error %v matches neither ErrInvalidLocation nor ErrInvalid", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if l.Kind != tc.kind || l.Path != tc.path || l.Tag != tc.tag || (tc.ref != "" && l.Ref.String() != tc.ref) {
			t.Errorf("%q: got %s %+v (ref %s), want %s", tc.in, l.Kind, l, l.Ref, tc.kind)
		}
		back, err := store.ParseLocation(l.String())
		if err != nil || back != l {
			t.Errorf("%q: String %q does not parse back (%v)", tc.in, l.String(), err)
		}
	}
}

func TestParseLocation(t *testing.T) {
	checkLocations(t, store.ParseLocation, []locationCase{
		{in: "alpine", kind: remote.Kind, ref: "docker.io/library/alpine"},
		{in: "docker://localhost:5000/a/b:v1", kind: remote.Kind, ref: "localhost:5000/a/b:v1"},
		{in: "oci:./out", kind: ocilayout.Kind, path: "./out"},
		{in: "oci:/tmp/x:v1.2", kind: ocilayout.Kind, path: "/tmp/x", tag: "v1.2"},
		{in: "oci:dir@sha256:" + strings.Repeat("a", 64), kind: ocilayout.Kind, path: "dir", tag: "sha256:" + strings.Repeat("a", 64)},
		{in: "oci:a:b/c", kind: ocilayout.Kind, path: "a:b/c"},
		{in: "docker-archive:img.tar", kind: archive.Kind, path: "img.tar"},
		{in: "docker-archive:img.tar:foo/bar:v1", kind: archive.Kind, path: "img.tar", ref: "docker.io/foo/bar:v1"},
		{in: "oci:", err: "directory is missing"},
		{in: "oci:x:-bad", err: "tag"},
		{in: "docker-archive:", err: "file is missing"},
		{in: "docker-archive:x.tar:Bad", err: "lowercase"},
		{in: "dir:/x", err: "does not handle dir:"},
		{in: "UPPER/case", err: "lowercase"},
	})
}

// TestParseLocalPaths: a path names a local layout or archive without a
// prefix; one that names nothing says which prefix to write.
func TestParseLocalPaths(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, d := range []string{"layout", "alpine", "My Dir"} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile("app.tar", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(dir, "layout")
	checkLocations(t, store.ParseLocation, []locationCase{
		{in: "app.tar", kind: archive.Kind, path: "app.tar"},
		{in: "./app.tar", kind: archive.Kind, path: "./app.tar"},
		{in: "./layout", kind: ocilayout.Kind, path: "./layout"},
		{in: abs, kind: ocilayout.Kind, path: abs},
		{in: ".", kind: ocilayout.Kind, path: "."},
		{in: "./layout:v1", kind: ocilayout.Kind, path: "./layout", tag: "v1"},
		{in: "My Dir", kind: ocilayout.Kind, path: "My Dir"}, // not a reference
		// A plain name stays an image even where a directory of that name
		// exists: hoist pull alpine creates ./alpine.
		{in: "alpine", kind: remote.Kind, ref: "docker.io/library/alpine"},
		{in: "./missing", err: "oci:./missing"},
		{in: "gone.tar", err: "docker-archive:gone.tar"},
		{in: "gone.tar", err: "docker://gone.tar"},
		{in: "../nope/x.tar", err: "no such file"},
	})
	// A pull destination or push source is local whatever it looks like.
	checkLocations(t, store.ParseLocalLocation, []locationCase{
		{in: "alpine", kind: ocilayout.Kind, path: "alpine"},
		{in: "new", kind: ocilayout.Kind, path: "new"},
		{in: "./new:v2", kind: ocilayout.Kind, path: "./new", tag: "v2"},
		{in: "out.tar", kind: archive.Kind, path: "out.tar"},
		{in: "app.tar", kind: archive.Kind, path: "app.tar"},
		{in: "docker-archive:x.tar:foo:v1", kind: archive.Kind, path: "x.tar", ref: "docker.io/library/foo:v1"},
		{in: "docker://alpine", kind: remote.Kind, ref: "docker.io/library/alpine"},
	})
}

func TestKindsRegistered(t *testing.T) {
	var names []string
	for _, k := range store.Kinds() {
		names = append(names, k.Name)
	}
	if got := strings.Join(names, " "); got != "docker docker-archive oci" {
		t.Fatalf("registered kinds: %q", got)
	}
	if store.LookupKind("oci") != ocilayout.Kind {
		t.Fatal("LookupKind(oci) is not ocilayout.Kind")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("registering a second oci: kind did not panic")
		}
	}()
	store.Register(&store.Kind{Name: "oci2", Prefix: "oci:", Parse: func(string) (store.Location, error) { return store.Location{}, nil },
		Format: func(store.Location) string { return "" }})
}
