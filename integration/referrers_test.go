//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store/ocilayout"
)

// discovered is oras discover --format json's tree, the parts compared.
type discovered struct {
	Digest       string       `json:"digest"`
	ArtifactType string       `json:"artifactType"`
	Referrers    []discovered `json:"referrers"`
}

// edges flattens a tree into "subject > referrer (type)" lines, sorted.
func (d discovered) edges() []string {
	var out []string
	var walk func(discovered)
	walk = func(n discovered) {
		for _, r := range n.Referrers {
			out = append(out, n.Digest+" > "+r.Digest+" ("+r.ArtifactType+")")
			walk(r)
		}
	}
	walk(d)
	slices.Sort(out)
	return out
}

// orasIn runs oras in dir with HOME under it.
func orasIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	oras := testutil.NeedBinary(t, "oras", "run .ci/tools")
	cmd := exec.Command(oras, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "HOME="+filepath.Join(dir, "home"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("oras %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// discover is oras discover's tree of ref ("--oci-layout" first for a
// layout).
func discover(t *testing.T, dir string, args ...string) discovered {
	t.Helper()
	out := orasIn(t, dir, append([]string{"discover", "--format", "json"}, args...)...)
	var d discovered
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("oras discover %v: %v\n%s", args, err, out)
	}
	return d
}

func hoistOK(t *testing.T, env []string, args ...string) string {
	t.Helper()
	out, stderr, code := runHoist(t, env, args...)
	if code != 0 {
		t.Fatalf("hoist %s: exit %d\n%s%s", strings.Join(args, " "), code, out, stderr)
	}
	return out
}

// TestReferrersTravelWithImages attaches an SBOM, a signature of the SBOM
// and a signature of the image with oras, copies the image with hoist copy
// --referrers to a second registry, into an OCI layout and from there to a
// third registry and a second layout, and checks with oras discover at
// every step that the tree and its digests are the source's. It runs
// against hoist serve (the referrers API) and Debian's docker-registry
// (distribution 2.8, the tag schema).
func TestReferrersTravelWithImages(t *testing.T) {
	kinds := []struct {
		name  string
		start func(t *testing.T) string
	}{
		{"hoist serve (referrers API)", func(t *testing.T) string { h, _ := startServe(t); return h }},
		{"docker-registry (tag schema)", func(t *testing.T) string { return testutil.DockerRegistry(t) }},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			dir := t.TempDir()
			env := []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}
			src, dst, back := k.start(t), k.start(t), k.start(t)
			img := src + "/signed/app:v1"
			hoistOK(t, env, "copy", "../testdata/example", img)

			os.WriteFile(filepath.Join(dir, "sbom.spdx.json"), []byte(`{"spdxVersion":"SPDX-2.3"}`), 0o644)
			os.WriteFile(filepath.Join(dir, "sbom.sig"), []byte("a signature of the sbom"), 0o644)
			os.WriteFile(filepath.Join(dir, "image.sig"), []byte("a signature of the image"), 0o644)
			orasIn(t, dir, "attach", "--plain-http", "--artifact-type", "application/spdx+json", img, "sbom.spdx.json")
			tree := discover(t, dir, "--plain-http", img)
			if len(tree.Referrers) != 1 {
				t.Fatalf("oras attach: %d referrers", len(tree.Referrers))
			}
			sbom := tree.Referrers[0].Digest
			orasIn(t, dir, "attach", "--plain-http", "--artifact-type", "application/vnd.example.signature", src+"/signed/app@"+sbom, "sbom.sig")
			orasIn(t, dir, "attach", "--plain-http", "--artifact-type", "application/vnd.example.signature", img, "image.sig")
			full := discover(t, dir, "--plain-http", img)
			want := full.edges()
			if len(want) != 3 {
				t.Fatalf("source tree %v, want 3 edges", want)
			}
			// The image's signature under cosign's legacy tag too.
			cosignTag := "sha256-" + strings.TrimPrefix(tree.Digest, "sha256:") + ".sig"
			for _, r := range full.Referrers {
				if r.ArtifactType == "application/vnd.example.signature" {
					hoistOK(t, env, "tag", src+"/signed/app@"+r.Digest, cosignTag)
				}
			}

			check := func(what string, got discovered) {
				t.Helper()
				if got.Digest != tree.Digest || !slices.Equal(got.edges(), want) {
					t.Errorf("%s: oras discover shows %s %v, want %s %v", what, got.Digest, got.edges(), tree.Digest, want)
				}
			}
			out := hoistOK(t, env, "copy", "--referrers", img, dst+"/mirror/app:v1")
			if !strings.Contains(out, "4 referrer(s)") { // three by subject, and the cosign tag
				t.Errorf("copy --referrers says %q, want 4 referrers", out)
			}
			check("the registry copied to", discover(t, dir, "--plain-http", dst+"/mirror/app:v1"))
			if tags := hoistOK(t, env, "tags", dst+"/mirror/app"); !strings.Contains(tags, cosignTag) {
				t.Errorf("the target's tags %q lack cosign's %s", tags, cosignTag)
			}

			lay := filepath.Join(dir, "layout")
			hoistOK(t, env, "copy", "--referrers", dst+"/mirror/app:v1", "oci:"+lay+":v1")
			check("the OCI layout", discover(t, dir, "--oci-layout", lay+":v1"))

			hoistOK(t, env, "copy", "--referrers", "oci:"+lay+":v1", back+"/back/app:v1")
			check("the registry pushed to from the layout", discover(t, dir, "--plain-http", back+"/back/app:v1"))
			lay2 := filepath.Join(dir, "layout2")
			hoistOK(t, env, "pull", "--referrers", back+"/back/app:v1", "oci:"+lay2+":v1")
			check("the layout pulled back", discover(t, dir, "--oci-layout", lay2+":v1"))

			// Without --referrers nothing is copied, and hoist says so.
			_, stderr, code := runHoist(t, env, "copy", img, dst+"/plain/app:v1")
			if code != 0 || !strings.Contains(stderr, "2 referrer(s) (signatures, SBOMs, attestations) that were not copied: copy them with --referrers") {
				t.Errorf("copy without --referrers: exit %d, stderr %q; want a warning naming --referrers", code, stderr)
			}
			if d := discover(t, dir, "--plain-http", dst+"/plain/app:v1"); len(d.Referrers) != 0 {
				t.Errorf("copy without --referrers copied %d referrers", len(d.Referrers))
			}
			_, stderr, code = runHoist(t, env, "pull", img, filepath.Join(dir, "app.tar"))
			if code != 0 || !strings.Contains(stderr, "a docker archive cannot hold them") {
				t.Errorf("pull to a docker archive: exit %d, stderr %q; want a warning that the referrers are lost", code, stderr)
			}
			_, stderr, code = runHoist(t, env, "pull", "--referrers", img, filepath.Join(dir, "app2.tar"))
			if code != 2 || !strings.Contains(stderr, "--referrers") {
				t.Errorf("pull --referrers to a docker archive: exit %d, stderr %q; want a usage error", code, stderr)
			}

			// hoist referrers lists the same tree.
			var ht struct {
				Subject   struct{ Digest string }
				Referrers []discovered
			}
			if err := json.Unmarshal([]byte(hoistOK(t, env, "--json", "referrers", "oci:"+lay2+":v1")), &ht); err != nil {
				t.Fatal(err)
			}
			check("hoist referrers", discovered{Digest: ht.Subject.Digest, Referrers: ht.Referrers})
		})
	}
}

// TestArtifactsWithOras pushes files with oras and pulls them with hoist,
// and the reverse, byte for byte, subdirectories included.
func TestArtifactsWithOras(t *testing.T) {
	reg, _ := startServe(t)
	dir := t.TempDir()
	env := []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}
	in := filepath.Join(dir, "in")
	os.MkdirAll(filepath.Join(in, "docs"), 0o755)
	files := map[string]string{"README.md": "# notes\n", "docs/guide.md": "a guide\n", "data.bin": strings.Repeat("\x00\x01\x02", 50_000)}
	for name, body := range files {
		os.WriteFile(filepath.Join(in, name), []byte(body), 0o644)
	}
	same := func(what, got string) {
		t.Helper()
		for name, body := range files {
			b, err := os.ReadFile(filepath.Join(got, name))
			if err != nil || string(b) != body {
				t.Errorf("%s: %s differs (%v)", what, name, err)
			}
		}
	}

	orasIn(t, in, "push", "--plain-http", reg+"/notes/by-oras:v1", "README.md", "docs/guide.md:text/markdown", "data.bin")
	out := filepath.Join(dir, "hoist-out")
	hoistOK(t, env, "artifact", "pull", reg+"/notes/by-oras:v1", out)
	same("oras push, hoist artifact pull", out)

	cmd := exec.Command(hoistBin, "artifact", "push", "--artifact-type", "application/vnd.example.notes", reg+"/notes/by-hoist:v1", "README.md", "docs/guide.md:text/markdown", "data.bin")
	cmd.Dir, cmd.Env = in, append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hoist artifact push: %v\n%s", err, b)
	}
	orasOut := filepath.Join(dir, "oras-out")
	orasIn(t, dir, "pull", "--plain-http", "-o", orasOut, reg+"/notes/by-hoist:v1")
	same("hoist artifact push, oras pull", orasOut)
	var m struct{ ArtifactType string }
	json.Unmarshal([]byte(orasIn(t, dir, "manifest", "fetch", "--plain-http", reg+"/notes/by-hoist:v1")), &m)
	if m.ArtifactType != "application/vnd.example.notes" {
		t.Errorf("oras reads artifact type %q", m.ArtifactType)
	}

	// hoist attach to the tag-schema registry: oras finds it there.
	dreg := testutil.DockerRegistry(t)
	hoistOK(t, env, "copy", "../testdata/example", dreg+"/signed/app:v1")
	hoistOK(t, env, "attach", "--artifact-type", "application/vnd.example.note", "--annotation", "org.example.by=hoist", dreg+"/signed/app:v1", filepath.Join(in, "README.md"))
	hoistOK(t, env, "attach", "--artifact-type", "application/vnd.example.note", dreg+"/signed/app:v1", filepath.Join(in, "data.bin"))
	if d := discover(t, dir, "--plain-http", dreg+"/signed/app:v1"); len(d.Referrers) != 2 {
		t.Errorf("oras discover after two hoist attach to a registry without the referrers API: %+v", d)
	}
}

// TestLayoutReferrersWithRegctl: regctl keeps a layout's referrers in the
// subject's referrers tag, oras and hoist as index.json entries. hoist
// reads both, and an artifact it attaches to such a layout joins regctl's
// tag, so regctl, oras and hoist all list both.
func TestLayoutReferrersWithRegctl(t *testing.T) {
	regctl := testutil.NeedBinary(t, "regctl", "run .ci/tools")
	dir := t.TempDir()
	env := []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}
	lay := filepath.Join(dir, "layout")
	hoistOK(t, env, "copy", "../testdata/example", "oci:"+lay+":v1")
	os.WriteFile(filepath.Join(dir, "by-regctl.sig"), []byte("regctl's signature"), 0o644)
	os.WriteFile(filepath.Join(dir, "by-hoist.json"), []byte(`{"by":"hoist"}`), 0o644)
	peer(t, dir, regctl, "artifact", "put", "--artifact-type", "application/vnd.example.signature",
		"--subject", "ocidir://"+lay+":v1", "-f", filepath.Join(dir, "by-regctl.sig"))
	hoistOK(t, env, "attach", "--artifact-type", "application/spdx+json", "oci:"+lay+":v1", filepath.Join(dir, "by-hoist.json"))

	var ht struct{ Referrers []discovered }
	if err := json.Unmarshal([]byte(hoistOK(t, env, "--json", "referrers", "oci:"+lay+":v1")), &ht); err != nil {
		t.Fatal(err)
	}
	want := []string{"application/spdx+json", "application/vnd.example.signature"}
	var got []string
	for _, r := range ht.Referrers {
		got = append(got, r.ArtifactType)
	}
	if !slices.Equal(got, want) {
		t.Errorf("hoist referrers lists %v, want %v", got, want)
	}
	if d := discover(t, dir, "--oci-layout", lay+":v1"); len(d.Referrers) != 2 {
		t.Errorf("oras discover lists %d referrers, want 2", len(d.Referrers))
	}
	out := peer(t, dir, regctl, "artifact", "list", "ocidir://"+lay+":v1", "--format", "{{range .Descriptors}}{{.ArtifactType}}\n{{end}}")
	if lines := strings.Fields(out); len(lines) != 2 {
		t.Errorf("regctl artifact list: %q, want both referrers", out)
	}
}

// TestArtifactPullRefusesEscapingTitles serves, from a real registry,
// artifacts whose titles climb out of the directory or are absolute:
// hoist artifact pull refuses each and writes nothing anywhere.
func TestArtifactPullRefusesEscapingTitles(t *testing.T) {
	reg, _ := startServe(t)
	dir := t.TempDir()
	env := []string{"XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}
	ctx := context.Background()
	lay, err := ocilayout.Create(ctx, filepath.Join(dir, "evil"))
	if err != nil {
		t.Fatal(err)
	}
	push := func(d ocispec.Descriptor, b []byte) {
		if err := lay.Push(ctx, d, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	push(content.EmptyDescriptor(), content.EmptyJSON)
	for i, title := range []string{"../escaped", "a/../../escaped", filepath.Join(dir, "escaped")} {
		body := []byte("payload for " + title)
		d := content.NewDescriptor("text/plain", body)
		push(d, body)
		d.Annotations = map[string]string{ocispec.AnnotationTitle: title}
		raw, md, err := content.NewArtifact(content.Artifact{ArtifactType: "application/vnd.example.files", Layers: []ocispec.Descriptor{d}})
		if err != nil {
			t.Fatal(err)
		}
		push(md, raw)
		tag := fmt.Sprintf("t%d", i)
		if err := lay.Tag(ctx, md, tag); err != nil {
			t.Fatal(err)
		}
		hoistOK(t, env, "copy", "oci:"+filepath.Join(dir, "evil")+":"+tag, reg+"/evil/files:"+tag)
		out := filepath.Join(dir, "out", tag, "inner")
		_, stderr, code := runHoist(t, env, "artifact", "pull", reg+"/evil/files:"+tag, out)
		if code != 1 || !strings.Contains(stderr, "refusing to write it") {
			t.Errorf("title %q: exit %d, %q; want a refusal", title, code, stderr)
		}
		for _, p := range []string{filepath.Join(dir, "escaped"), filepath.Join(dir, "out", tag, "escaped"), filepath.Join(dir, "out", "escaped"), out} {
			if _, err := os.Stat(p); err == nil {
				t.Errorf("title %q: %s was written", title, p)
			}
		}
	}
}
