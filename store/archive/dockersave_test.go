package archive

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/store"
)

// entry is one member of a hand-built tar.
type entry struct {
	name string
	data []byte
	link string // a symlink to this target when set
	dir  bool
}

func writeTar(t *testing.T, path string, entries []entry) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg}
		switch {
		case e.dir:
			h = &tar.Header{Name: e.name, Mode: 0o755, Typeflag: tar.TypeDir}
		case e.link != "":
			h = &tar.Header{Name: e.name, Linkname: e.link, Mode: 0o777, Typeflag: tar.TypeSymlink}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
	}
	tw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// layerTar is an uncompressed layer holding one file.
func layerTar(t *testing.T, name, body string) []byte {
	return testutil.TarOneFile(t, name, []byte(body))
}

func configFor(t *testing.T, diffIDs ...digest.Digest) []byte {
	b, err := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"config": map[string]any{"Cmd": []string{"sh"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func legacyID(s string) string { return digest.FromString(s).Encoded() }

// dockerSaveFixture writes a tarball laid out exactly as docker save
// (before Docker 25) writes it: per-layer directories with VERSION, json
// and an uncompressed layer.tar, a repeated layer as a symlink to the
// first copy, the config as <hex>.json, manifest.json and repositories.
func dockerSaveFixture(t *testing.T, path string) (cfg []byte, layers [][]byte) {
	l1 := layerTar(t, "bin/sh", "#!/bin/true\n")
	l2 := layerTar(t, "etc/motd", "hello from docker save\n")
	layers = [][]byte{l1, l2, l1}
	diffIDs := []digest.Digest{digest.FromBytes(l1), digest.FromBytes(l2), digest.FromBytes(l1)}
	cfg = configFor(t, diffIDs...)
	cfgHex := digest.FromBytes(cfg).Encoded()
	ids := []string{legacyID("one"), legacyID("two"), legacyID("three")}
	var es []entry
	for i, id := range ids {
		es = append(es, entry{name: id + "/", dir: true}, entry{name: id + "/VERSION", data: []byte("1.0")})
		v1 := map[string]any{"id": id, "created": "1970-01-01T00:00:00Z"}
		if i > 0 {
			v1["parent"] = ids[i-1]
		}
		j, _ := json.Marshal(v1)
		es = append(es, entry{name: id + "/json", data: j})
		if i == 2 {
			es = append(es, entry{name: id + "/layer.tar", link: "../" + ids[0] + "/layer.tar"})
		} else {
			es = append(es, entry{name: id + "/layer.tar", data: layers[i]})
		}
	}
	man, _ := json.Marshal([]manifestItem{{
		Config: cfgHex + ".json", RepoTags: []string{"busybox:latest"},
		Layers: []string{ids[0] + "/layer.tar", ids[1] + "/layer.tar", ids[2] + "/layer.tar"},
	}})
	repos, _ := json.Marshal(map[string]map[string]string{"busybox": {"latest": ids[2]}})
	es = append(es, entry{name: cfgHex + ".json", data: cfg}, entry{name: "manifest.json", data: man}, entry{name: "repositories", data: repos})
	writeTar(t, path, es)
	return cfg, layers
}

func TestReadDockerSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busybox.tar")
	cfg, layers := dockerSaveFixture(t, path)
	r := open(t, path)
	root, err := r.Resolve(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"busybox", "busybox:latest", "docker.io/library/busybox:latest", root.Digest.String()} {
		if d, err := r.Resolve(ctx, ref); err != nil || d.Digest != root.Digest {
			t.Errorf("Resolve(%q) = %v, %v", ref, d.Digest, err)
		}
	}
	if root.MediaType != content.MediaTypeDockerManifest {
		t.Errorf("manifest media type %q", root.MediaType)
	}
	raw := testutil.ReadBlob(t, r, root)
	m, err := content.Decode(root.MediaType, raw)
	if err != nil {
		t.Fatal(err)
	}
	// docker's and crane's serialisation: compact, mediaType, size, digest.
	desc := func(mt string, b []byte) string {
		return fmt.Sprintf(`{"mediaType":%q,"size":%d,"digest":%q}`, mt, len(b), digest.FromBytes(b))
	}
	var ls []string
	for _, l := range layers {
		ls = append(ls, desc(MediaTypeDockerLayerTar, l))
	}
	wantRaw := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":%s,"layers":[%s]}`,
		content.MediaTypeDockerManifest, desc(content.MediaTypeDockerConfig, cfg), strings.Join(ls, ",")))
	if !bytes.Equal(raw, wantRaw) {
		t.Errorf("synthesised manifest:\n%s\nwant\n%s", raw, wantRaw)
	}
	if !bytes.Equal(testutil.ReadBlob(t, r, m.Image.Config), cfg) {
		t.Error("config differs")
	}
	for i, l := range m.Image.Layers {
		if !bytes.Equal(testutil.ReadBlob(t, r, l), layers[i]) {
			t.Errorf("layer %d differs", i)
		}
	}
	// Deterministic: another Open presents the same digest.
	if d, _ := open(t, path).Resolve(ctx, ""); d.Digest != root.Digest {
		t.Errorf("second Open: %s, first %s", d.Digest, root.Digest)
	}
	// Written back out by hoist and read again, the image keeps its digest.
	out := filepath.Join(t.TempDir(), "again.tar")
	w, err := Create(ctx, out, WithReference(mustRef(t, "busybox:latest")))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort(ctx)
	if err := copyGraph(r, root, w); err != nil {
		t.Fatal(err)
	}
	if err := w.Tag(ctx, root, ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if d, err := open(t, out).Resolve(ctx, "busybox"); err != nil || d.Digest != root.Digest {
		t.Errorf("after a hoist round trip: %v, %v; want %s", d.Digest, err, root.Digest)
	}
}

// crane (go-containerregistry's tarball package) writes gzip'd layers as
// <hex>.tar.gz and the config as sha256:<hex>; their digests are hashed.
func TestReadCompressedLayers(t *testing.T) {
	l1, l2 := layerTar(t, "a", "a"), layerTar(t, "b", "b")
	z1, z2 := testutil.Gzip(t, l1), testutil.Gzip(t, l2)
	cfg := configFor(t, digest.FromBytes(l1), digest.FromBytes(l2))
	cfgName := digest.FromBytes(cfg).String()
	man, _ := json.Marshal([]manifestItem{{Config: cfgName, RepoTags: []string{"example.com/x:1"},
		Layers: []string{digest.FromBytes(z1).Encoded() + ".tar.gz", digest.FromBytes(z2).Encoded() + ".tar.gz"}}})
	path := filepath.Join(t.TempDir(), "crane.tar")
	writeTar(t, path, []entry{
		{name: cfgName, data: cfg},
		{name: digest.FromBytes(z1).Encoded() + ".tar.gz", data: z1},
		{name: digest.FromBytes(z2).Encoded() + ".tar.gz", data: z2},
		{name: "manifest.json", data: man},
	})
	r := open(t, path)
	root, err := r.Resolve(ctx, "example.com/x:1")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := content.Decode(root.MediaType, testutil.ReadBlob(t, r, root))
	for i, z := range [][]byte{z1, z2} {
		l := m.Image.Layers[i]
		if l.MediaType != content.MediaTypeDockerLayer || l.Digest != digest.FromBytes(z) || l.Size != int64(len(z)) {
			t.Errorf("layer %d = %+v", i, l)
		}
		if !bytes.Equal(testutil.ReadBlob(t, r, l), z) {
			t.Errorf("layer %d differs", i)
		}
	}
}

// Docker 25.0 wrote an OCI manifest whose layers list only foreign
// layers; manifest.json is still right, and wins.
func TestReadDocker25MismatchedOCIManifest(t *testing.T) {
	l1 := layerTar(t, "x", "docker 25")
	cfg := configFor(t, digest.FromBytes(l1))
	cd := content.NewDescriptor(content.MediaTypeOCIConfig, cfg)
	bad := ocispec.Manifest{MediaType: content.MediaTypeOCIManifest, Config: cd, Layers: []ocispec.Descriptor{}}
	bad.SchemaVersion = 2
	badRaw, _ := json.Marshal(bad)
	md := content.NewDescriptor(content.MediaTypeOCIManifest, badRaw)
	ix, _ := json.Marshal(ocispec.Index{MediaType: content.MediaTypeOCIIndex, Manifests: []ocispec.Descriptor{md}})
	man, _ := json.Marshal([]manifestItem{{Config: blobName(cd.Digest), RepoTags: []string{"d25:latest"}, Layers: []string{blobName(digest.FromBytes(l1))}}})
	path := filepath.Join(t.TempDir(), "d25.tar")
	writeTar(t, path, []entry{
		{name: "blobs/", dir: true}, {name: "blobs/sha256/", dir: true},
		{name: blobName(cd.Digest), data: cfg},
		{name: blobName(digest.FromBytes(l1)), data: l1},
		{name: blobName(md.Digest), data: badRaw},
		{name: "index.json", data: ix},
		{name: "manifest.json", data: man},
		{name: "oci-layout", data: []byte(`{"imageLayoutVersion":"1.0.0"}`)},
	})
	r := open(t, path)
	root, err := r.Resolve(ctx, "d25")
	if err != nil {
		t.Fatal(err)
	}
	if root.Digest == md.Digest || root.MediaType != content.MediaTypeDockerManifest {
		t.Fatalf("the layerless OCI manifest was used: %+v", root)
	}
	m, _ := content.Decode(root.MediaType, testutil.ReadBlob(t, r, root))
	if len(m.Image.Layers) != 1 || !bytes.Equal(testutil.ReadBlob(t, r, m.Image.Layers[0]), l1) {
		t.Errorf("layers = %+v", m.Image.Layers)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := configFor(t, digest.FromString("x"))
	for _, tc := range []struct {
		name    string
		entries []entry
		raw     []byte
		want    string
	}{
		{name: "not a tar", raw: []byte("this is not a tar file, not at all, no, really not one bit; padding padding padding padding padding"), want: "not a readable tar"},
		{name: "no manifest.json", entries: []entry{{name: "x", data: []byte("x")}}, want: "no manifest.json"},
		{name: "oci archive", entries: []entry{{name: "index.json", data: []byte("{}")}, {name: "oci-layout", data: []byte("{}")}}, want: "OCI archive"},
		{name: "missing layer", entries: []entry{
			{name: "c.json", data: cfg},
			{name: "manifest.json", data: []byte(`[{"Config":"c.json","RepoTags":null,"Layers":["abc/layer.tar"]}]`)},
		}, want: "abc/layer.tar is not in the archive"},
		{name: "member climbing out", entries: []entry{{name: "../../x", data: []byte("x")}}, want: `member "../../x" climbs out`},
		{name: "absolute member", entries: []entry{{name: "/etc/x", data: []byte("x")}}, want: `member "/etc/x" is absolute`},
		{name: "symlink climbing out", entries: []entry{{name: "a/layer.tar", link: "../../../etc/passwd"}}, want: `symlink "a/layer.tar" leads to "../../../etc/passwd"`},
		{name: "absolute symlink", entries: []entry{{name: "layer.tar", link: "/etc/passwd"}}, want: "which is absolute"},
		{name: "manifest names a file outside", entries: []entry{
			{name: "c.json", data: cfg},
			{name: "manifest.json", data: []byte(`[{"Config":"c.json","RepoTags":null,"Layers":["../../etc/passwd"]}]`)},
		}, want: `"../../etc/passwd", which climbs out`},
		{name: "layer count", entries: []entry{
			{name: "c.json", data: cfg},
			{name: "manifest.json", data: []byte(`[{"Config":"c.json","RepoTags":null,"Layers":[]}]`)},
		}, want: "1 layers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".tar")
			if tc.raw != nil {
				os.WriteFile(path, tc.raw, 0o644)
			} else {
				writeTar(t, path, tc.entries)
			}
			_, err := Open(ctx, path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("Open = %v, want an error naming %s and saying %q", err, path, tc.want)
			}
		})
	}
	if _, err := Open(ctx, filepath.Join(dir, "absent.tar")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Open of a missing file: %v", err)
	}
}

// copyGraph copies one image manifest and its blobs, sequentially.
func copyGraph(src store.Reader, root ocispec.Descriptor, dst store.Writer) error {
	raw, err := readAll(src, root)
	if err != nil {
		return err
	}
	m, err := content.Decode(root.MediaType, raw)
	if err != nil {
		return err
	}
	for _, ch := range content.Children(m) {
		b, err := readAll(src, ch.Descriptor)
		if err != nil {
			return err
		}
		if err := dst.Push(ctx, ch.Descriptor, bytes.NewReader(b)); err != nil {
			return err
		}
	}
	return dst.Push(ctx, root, bytes.NewReader(raw))
}

func readAll(s store.Reader, d ocispec.Descriptor) ([]byte, error) {
	rc, err := s.Fetch(ctx, d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(rc); err != nil {
		return nil, fmt.Errorf("%s: %w", d.Digest, err)
	}
	return buf.Bytes(), nil
}
