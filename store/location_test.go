package store

import (
	"strings"
	"testing"
)

func TestParseLocation(t *testing.T) {
	tests := []struct {
		in   string
		kind Kind
		path string
		tag  string
		ref  string
		err  string
	}{
		{in: "alpine", kind: Registry, ref: "docker.io/library/alpine"},
		{in: "docker://localhost:5000/a/b:v1", kind: Registry, ref: "localhost:5000/a/b:v1"},
		{in: "oci:./out", kind: OCILayout, path: "./out"},
		{in: "oci:/tmp/x:v1.2", kind: OCILayout, path: "/tmp/x", tag: "v1.2"},
		{in: "oci:dir@sha256:" + strings.Repeat("a", 64), kind: OCILayout, path: "dir", tag: "sha256:" + strings.Repeat("a", 64)},
		{in: "oci:a:b/c", kind: OCILayout, path: "a:b/c"},
		{in: "docker-archive:img.tar", kind: DockerArchive, path: "img.tar"},
		{in: "docker-archive:img.tar:foo/bar:v1", kind: DockerArchive, path: "img.tar", ref: "docker.io/foo/bar:v1"},
		{in: "oci:", err: "directory is missing"},
		{in: "oci:x:-bad", err: "tag"},
		{in: "docker-archive:", err: "file is missing"},
		{in: "docker-archive:x.tar:Bad", err: "lowercase"},
		{in: "dir:/x", err: "does not handle dir:"},
		{in: "UPPER/case", err: "lowercase"},
	}
	for _, tc := range tests {
		l, err := ParseLocation(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one mentioning %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if l.Kind != tc.kind || l.Path != tc.path || l.Tag != tc.tag || (tc.ref != "" && l.Ref.String() != tc.ref) {
			t.Errorf("%q: got %+v (ref %s)", tc.in, l, l.Ref)
		}
		back, err := ParseLocation(l.String())
		if err != nil || back != l {
			t.Errorf("%q: String %q does not parse back (%v)", tc.in, l.String(), err)
		}
	}
}
