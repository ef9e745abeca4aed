package hoist_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/registrytest"
)

// craftArtifact writes into the layout dir, tagged tag, an artifact whose
// layers carry the given titles (each layer's body is its title), as a
// hostile registry could serve it.
func craftArtifact(t *testing.T, s *hoist.Session, dir, tag string, titles ...string) {
	t.Helper()
	ctx := context.Background()
	st, err := s.OpenWriter(ctx, "oci:"+dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	push := func(d ocispec.Descriptor, b []byte) {
		if err := st.Writer.Push(ctx, d, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	push(content.EmptyDescriptor(), content.EmptyJSON)
	var layers []ocispec.Descriptor
	for _, title := range titles {
		body := []byte("body of " + title)
		d := content.NewDescriptor("text/plain", body)
		push(d, body)
		d.Annotations = map[string]string{ocispec.AnnotationTitle: title}
		layers = append(layers, d)
	}
	raw, desc, err := content.NewArtifact(content.Artifact{ArtifactType: "application/vnd.example.files", Layers: layers})
	if err != nil {
		t.Fatal(err)
	}
	push(desc, raw)
	if err := st.Writer.Tag(ctx, desc, tag); err != nil {
		t.Fatal(err)
	}
}

// Titles come from the registry: those that would put a file outside the
// directory, or that cannot name one, refuse the pull before anything is
// written, and a symbolic link inside the directory leads nowhere out.
func TestPullArtifactRefusesUnsafeTitles(t *testing.T) {
	s, err := hoist.NewSession(hoist.WithConfigDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	base := t.TempDir()
	lay := filepath.Join(base, "layout")
	cases := []struct {
		tag    string
		titles []string
		unsafe bool // an *UnsafeTitleError, not only a refusal
	}{
		{"parent", []string{"fine.txt", "../x"}, true},
		{"deeper", []string{"a/../../x"}, true},
		{"inside-but-dotdot", []string{"a/../x"}, true},
		{"dotdot", []string{".."}, true},
		{"absolute", []string{"/tmp/x"}, true},
		{"backslash", []string{`..\x`}, true},
		{"empty", []string{""}, true},
		{"dot", []string{"."}, true},
		{"nul", []string{"x\x00y"}, true},
		{"twice", []string{"same.txt", "./same.txt"}, false},
	}
	for _, tc := range cases {
		craftArtifact(t, s, lay, tc.tag, tc.titles...)
	}
	for _, tc := range cases {
		t.Run(tc.tag, func(t *testing.T) {
			out := filepath.Join(base, "out-"+tc.tag, "dir")
			_, err := s.PullArtifact(ctx, "oci:"+lay+":"+tc.tag, out)
			var ute *hoist.UnsafeTitleError
			if err == nil || !hoist.IsNotArtifact(err) || tc.unsafe != errors.As(err, &ute) {
				t.Fatalf("titles %q: %v; want a refusal (unsafe title: %v)", tc.titles, err, tc.unsafe)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the refused pull created %s (%v)", out, err)
			}
			if _, err := os.Stat(filepath.Join(base, "out-"+tc.tag, "x")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a file was written outside the directory")
			}
		})
	}

	// A link inside the directory to one outside: the title through it is
	// refused, and nothing lands outside.
	craftArtifact(t, s, lay, "through-link", "link/x")
	out, outside := filepath.Join(base, "linked"), filepath.Join(base, "outside")
	os.MkdirAll(out, 0o755)
	os.MkdirAll(outside, 0o755)
	if err := os.Symlink(outside, filepath.Join(out, "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PullArtifact(ctx, "oci:"+lay+":through-link", out); err == nil {
		t.Fatal("a title through a symbolic link out of the directory was written")
	}
	if names, _ := os.ReadDir(outside); len(names) != 0 {
		t.Fatalf("%d file(s) written outside the directory through the link", len(names))
	}

	// Safe titles, nested, land where they say, and replace what was there.
	craftArtifact(t, s, lay, "good", "top.txt", "sub/dir/deep.txt", "./dot.txt")
	good := filepath.Join(base, "good")
	os.MkdirAll(good, 0o755)
	os.WriteFile(filepath.Join(good, "top.txt"), []byte("old"), 0o644)
	res, err := s.PullArtifact(ctx, "oci:"+lay+":good", good)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range res.Files {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, []string{"top.txt", "sub/dir/deep.txt", "dot.txt"}) {
		t.Errorf("files %q", names)
	}
	for _, n := range []string{"top.txt", "sub/dir/deep.txt", "./dot.txt"} {
		b, err := os.ReadFile(filepath.Join(good, n))
		if err != nil || string(b) != "body of "+n {
			t.Errorf("%s: %q %v", n, b, err)
		}
	}
	entries, _ := os.ReadDir(good)
	if len(entries) != 3 {
		t.Errorf("%d entries in the directory, want 3 (no temporary files left)", len(entries))
	}
}

// PushArtifact and PullArtifact round-trip files, and Attach makes a
// referrer Referrers lists, on a registry without the referrers API.
func TestArtifactRoundTripAndAttach(t *testing.T) {
	reg := registrytest.New(t)
	s, err := hoist.NewSession(hoist.WithConfigDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	dir := t.TempDir()
	t.Chdir(dir)
	os.MkdirAll("docs", 0o755)
	os.WriteFile("a.txt", []byte("one"), 0o644)
	os.WriteFile("docs/b.md", []byte("two"), 0o644)
	ref := reg.Host() + "/notes/app:v1"
	pushed, err := s.PushArtifact(ctx, ref, []string{"a.txt", "docs/b.md:text/markdown"}, hoist.WithAnnotations(map[string]string{"org.example.k": "v"}))
	if err != nil {
		t.Fatal(err)
	}
	if pushed.Tag != "v1" || len(pushed.Files) != 2 || pushed.Files[1].Name != "docs/b.md" || pushed.Files[1].Descriptor.MediaType != "text/markdown" {
		t.Fatalf("pushed %+v", pushed)
	}
	pulled, err := s.PullArtifact(ctx, ref, "out")
	if err != nil {
		t.Fatal(err)
	}
	if pulled.Descriptor.Digest != pushed.Descriptor.Digest || pulled.Descriptor.ArtifactType != hoist.DefaultArtifactType {
		t.Errorf("pulled %s (%s), pushed %s", pulled.Descriptor.Digest, pulled.Descriptor.ArtifactType, pushed.Descriptor.Digest)
	}
	for name, body := range map[string]string{"out/a.txt": "one", "out/docs/b.md": "two"} {
		if b, err := os.ReadFile(name); err != nil || string(b) != body {
			t.Errorf("%s: %q %v", name, b, err)
		}
	}

	if _, err := s.Attach(ctx, ref, "", nil); err == nil {
		t.Error("Attach without an artifact type succeeded")
	}
	sbom, err := s.Attach(ctx, ref, "application/spdx+json", []string{"a.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if sbom.Subject == nil || sbom.Subject.Digest != pushed.Descriptor.Digest {
		t.Fatalf("attached to %+v, want %s", sbom.Subject, pushed.Descriptor.Digest)
	}
	sig, err := s.Attach(ctx, reg.Host()+"/notes/app@"+sbom.Descriptor.Digest.String(), "application/vnd.example.signature", nil)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := s.Referrers(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.Referrers) != 1 || tree.Referrers[0].Digest != sbom.Descriptor.Digest ||
		len(tree.Referrers[0].Referrers) != 1 || tree.Referrers[0].Referrers[0].Digest != sig.Descriptor.Digest {
		t.Fatalf("Referrers %+v, want the sbom and under it the signature", tree.Referrers)
	}
	only, err := s.Referrers(ctx, ref, hoist.WithReferrers("application/vnd.example.signature"))
	if err != nil || len(only.Referrers) != 0 {
		t.Errorf("Referrers of the signature type at the top: %+v %v; want none (the signature is one level down)", only, err)
	}

	if _, err := s.Copy(ctx, ref, "docker-archive:"+filepath.Join(dir, "x.tar"), hoist.WithReferrers()); !errors.As(err, new(*hoist.OptionError)) {
		t.Errorf("WithReferrers into a docker archive: %v, want an *OptionError", err)
	}
}
