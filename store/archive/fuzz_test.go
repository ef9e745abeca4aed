package archive

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	digest "github.com/opencontainers/go-digest"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/internal/fuzzcheck"
	"github.com/hoist-dev/hoist/internal/testutil"
)

// Bits of FuzzOpen's mix argument.
const (
	mixImage   = 1 << iota // c.json and l.tar: an image's config and layer
	mixGzip                // the layer gzipped
	mixOCI                 // an OCI layout beside them, presenting them
	mixRepeat              // the fuzzed manifest.json's text 256 times in one list; the index listing its manifest 256 times
	mixNoItems             // no default manifest.json when the fuzzed one is empty
)

// FuzzOpen builds a docker archive from a fuzzed manifest.json and
// repositories, fuzzed member names ("NAME" a file, "NAME>TARGET" a
// symlink, "NAME=TARGET" a hard link, one a line) and real image files
// chosen by mix, and checks that Open:
//   - refuses every archive with a member, link target or manifest.json
//     path that is absolute or climbs out with "..";
//   - reads no more than a few times the archive's size, however many
//     images share a config or a layer;
//   - names the archive in every error;
//   - on success, serves every image's manifest, config and layers
//     verified, and nothing that is not the content of a member of the
//     tar (or the manifest it synthesised).
func FuzzOpen(f *testing.F) {
	f.Add([]byte(``), []byte(``), "", "", uint8(mixImage))
	f.Add([]byte(`[{"Config":"c.json","RepoTags":["a:1","b"],"Layers":["l.tar"]}]`), []byte(`{"a":{"1":"x"}}`), "x/y", "link.tar>l.tar", uint8(mixImage|mixGzip))
	f.Add([]byte(`[{"Config":"c.json","Layers":["link.tar"]}]`), []byte(`null`), "", "link.tar=l.tar\nloop>loop", uint8(mixImage|mixOCI))
	f.Add([]byte(`[{"Config":"../../c.json","Layers":["/l.tar"]}]`), []byte(``), "../../x\n/abs", "out>../../etc/passwd\nabs>/etc/passwd", uint8(mixImage))
	f.Add([]byte(`{"Config":"c.json","Layers":["l.tar"]}`), []byte(``), "", "", uint8(mixImage|mixGzip|mixRepeat))
	f.Add([]byte(``), []byte(``), "", "", uint8(mixImage|mixGzip|mixOCI))
	tarPath := filepath.Join(f.TempDir(), "fuzz.tar")
	f.Fuzz(func(t *testing.T, manifest, repositories []byte, names, links string, mix uint8) {
		tb := newFuzzTar(t, mix)
		for i, name := range strings.Split(names, "\n") {
			if name != "" {
				tb.add(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644}, []byte("member "+string(rune('a'+i%26))))
			}
		}
		for _, l := range strings.Split(links, "\n") {
			if name, target, ok := strings.Cut(l, ">"); ok {
				tb.add(&tar.Header{Name: name, Linkname: target, Typeflag: tar.TypeSymlink, Mode: 0o777}, nil)
			} else if name, target, ok := strings.Cut(l, "="); ok {
				tb.add(&tar.Header{Name: name, Linkname: target, Typeflag: tar.TypeLink, Mode: 0o644}, nil)
			}
		}
		switch {
		case mix&mixRepeat != 0:
			manifest = []byte("[" + strings.TrimSuffix(strings.Repeat(string(manifest)+",", 256), ",") + "]")
		case len(manifest) == 0 && mix&mixNoItems == 0:
			manifest = []byte(`[{"Config":"c.json","RepoTags":["fuzz:latest"],"Layers":["l.tar"]}]`)
		}
		tb.add(&tar.Header{Name: manifestFile, Typeflag: tar.TypeReg, Mode: 0o644}, manifest)
		if len(repositories) > 0 {
			tb.add(&tar.Header{Name: repositoriesFile, Typeflag: tar.TypeReg, Mode: 0o644}, repositories)
		}
		data := tb.bytes()
		if err := os.WriteFile(tarPath, data, 0o600); err != nil {
			t.Fatal(err)
		}

		var r *Reader
		var err error
		limit := 4*int64(len(data)) + fuzzcheck.Slack
		if n := fuzzcheck.FileBytesRead(func() { r, err = Open(ctx, tarPath) }); n > limit {
			t.Fatalf("Open read %d bytes of a %d-byte archive", n, len(data))
		}
		if err != nil {
			if !strings.Contains(err.Error(), tarPath) {
				t.Fatalf("error does not name the archive: %v", err)
			}
			return
		}
		defer r.Close()
		if why := tb.escape(manifest); why != "" {
			t.Fatalf("Open accepted an archive whose %s", why)
		}
		checkServed(t, r, tb)
	})
}

// checkServed fetches every image of r with everything it refers to and
// asserts that each verifies and is the content of a member of the tar or
// an image's manifest.
func checkServed(t *testing.T, r *Reader, tb *fuzzTar) {
	t.Helper()
	images := r.Images()
	if len(images) == 1 {
		if d, err := r.Resolve(ctx, ""); err != nil || d.Digest != images[0].Descriptor.Digest {
			t.Fatalf("Resolve(\"\") of a one-image archive: %v, %v", d, err)
		}
	}
	checked := map[digest.Digest]bool{} // 256 entries may share one manifest
	for _, img := range images {
		if checked[img.Descriptor.Digest] {
			continue
		}
		checked[img.Descriptor.Digest] = true
		raw, err := readAll(r, img.Descriptor)
		if err != nil {
			t.Fatalf("manifest %s: %v", img.Descriptor.Digest, err)
		}
		m, err := content.Decode(img.Descriptor.MediaType, raw)
		if err != nil || m.Kind != content.KindImage {
			t.Fatalf("the archive serves a manifest hoist cannot read as an image: %v\n%s", err, raw)
		}
		for _, c := range content.Children(m) {
			b, err := readAll(r, c.Descriptor)
			if c.Role == content.RoleLayer && errors.Is(err, errcode.ErrDigestMismatch) {
				// An uncompressed layer's digest is its config's diff_id,
				// as docker save writes it; a layer file that does not
				// hash to it (the config named as a layer, say) is
				// refused as it is read, never served.
				continue
			}
			if err != nil {
				t.Fatalf("%s %s: %v", c.Role, c.Descriptor.Digest, err)
			}
			if !tb.contents[digest.FromBytes(b)] {
				t.Fatalf("%s %s is not the content of any member of the tar", c.Role, c.Descriptor.Digest)
			}
		}
	}
}

// fuzzTar builds a tar in memory and remembers what FuzzOpen needs to
// judge Open: the contents of its regular members, and the first name or
// link that leads outside it.
type fuzzTar struct {
	t        *testing.T
	buf      bytes.Buffer
	tw       *tar.Writer
	contents map[digest.Digest]bool
	outside  string
}

// newFuzzTar starts a tar with the real files mix asks for.
func newFuzzTar(t *testing.T, mix uint8) *fuzzTar {
	tb := &fuzzTar{t: t, contents: map[digest.Digest]bool{}}
	tb.tw = tar.NewWriter(&tb.buf)
	if mix&mixImage == 0 {
		return tb
	}
	l := fuzzLayers(t)[mix&mixGzip != 0]
	layer, cfg := l.stored, l.cfg
	tb.add(&tar.Header{Name: "c.json", Typeflag: tar.TypeReg, Mode: 0o644}, cfg)
	tb.add(&tar.Header{Name: "l.tar", Typeflag: tar.TypeReg, Mode: 0o644}, layer)
	if mix&mixOCI != 0 {
		tb.addLayout(cfg, layer, mix&mixRepeat != 0)
	}
	return tb
}

// addLayout adds an OCI layout presenting c.json and l.tar, as Docker 25
// writes it: blobs linked to those files, an image manifest, and an
// index.json that lists it once, or (padded to 64 KiB) 256 times when
// repeat is set.
func (tb *fuzzTar) addLayout(cfg, layer []byte, repeat bool) {
	cd := content.NewDescriptor(content.MediaTypeDockerConfig, cfg)
	ld := content.NewDescriptor(content.MediaTypeDockerLayer, layer)
	doc := map[string]any{"schemaVersion": 2, "mediaType": content.MediaTypeOCIManifest, "config": cd, "layers": []any{ld}}
	if repeat {
		// A large manifest, so that reading it once per listing shows.
		doc["annotations"] = map[string]string{"pad": strings.Repeat("p", 64<<10)}
	}
	man, _ := json.Marshal(doc)
	md := content.NewDescriptor(content.MediaTypeOCIManifest, man)
	tb.add(&tar.Header{Name: blobName(cd.Digest), Linkname: "c.json", Typeflag: tar.TypeLink, Mode: 0o644}, nil)
	tb.add(&tar.Header{Name: blobName(ld.Digest), Linkname: "l.tar", Typeflag: tar.TypeLink, Mode: 0o644}, nil)
	tb.add(&tar.Header{Name: blobName(md.Digest), Typeflag: tar.TypeReg, Mode: 0o644}, man)
	list := []any{md}
	if repeat {
		list = slices.Repeat(list, 256)
	}
	index, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": list})
	tb.add(&tar.Header{Name: ociLayoutFile, Typeflag: tar.TypeReg, Mode: 0o644}, []byte(`{"imageLayoutVersion":"1.0.0"}`))
	tb.add(&tar.Header{Name: ociIndexFile, Typeflag: tar.TypeReg, Mode: 0o644}, index)
}

// fuzzLayer is a layer as stored in the archive, and a config for it.
type fuzzLayer struct{ stored, cfg []byte }

var fuzzLayersOnce struct {
	sync.Once
	layers map[bool]fuzzLayer
}

// fuzzLayers returns, by whether it is gzipped, the layer newFuzzTar
// stores: a small plain tar, or 64 KiB that gzip cannot shrink much, so
// that a layer read twice shows in FuzzOpen's read bound. They are made
// once per process.
func fuzzLayers(t *testing.T) map[bool]fuzzLayer {
	fuzzLayersOnce.Do(func() {
		plain := layerTar(t, "etc/motd", "fuzz")
		noise := make([]byte, 0, 64<<10)
		for h := digest.FromString("noise"); len(noise) < cap(noise); h = digest.FromString(h.String()) {
			noise = append(noise, h.Encoded()...)
		}
		big := layerTar(t, "noise", string(noise))
		fuzzLayersOnce.layers = map[bool]fuzzLayer{
			false: {plain, configFor(t, digest.FromBytes(plain))},
			true:  {testutil.Gzip(t, big), configFor(t, digest.FromBytes(big))},
		}
	})
	return fuzzLayersOnce.layers
}

// add writes one member; a header the tar writer refuses is left out.
func (tb *fuzzTar) add(h *tar.Header, data []byte) {
	h.Size = int64(len(data))
	if h.Typeflag != tar.TypeReg {
		h.Size = 0
	}
	if err := tb.tw.WriteHeader(h); err != nil {
		return
	}
	if _, err := tb.tw.Write(data); err != nil {
		tb.t.Fatal(err)
	}
	if h.Typeflag == tar.TypeReg {
		tb.contents[digest.FromBytes(data)] = true
	}
	if tb.outside != "" {
		return
	}
	target := h.Linkname
	if h.Typeflag == tar.TypeSymlink && !path.IsAbs(target) {
		target = path.Join(path.Dir(h.Name), target)
	}
	switch {
	case leadsOut(h.Name):
		tb.outside = "member " + h.Name + " leads outside it"
	case (h.Typeflag == tar.TypeSymlink || h.Typeflag == tar.TypeLink) && leadsOut(target):
		tb.outside = "link " + h.Name + " -> " + h.Linkname + " leads outside it"
	}
}

func (tb *fuzzTar) bytes() []byte {
	if err := tb.tw.Close(); err != nil {
		tb.t.Fatal(err)
	}
	return tb.buf.Bytes()
}

// escape says what leads outside the archive, among its members and
// links and the paths of manifest.json, or "".
func (tb *fuzzTar) escape(manifest []byte) string {
	if tb.outside != "" {
		return tb.outside
	}
	var items []manifestItem
	if json.Unmarshal(manifest, &items) != nil {
		return ""
	}
	for _, it := range items {
		for _, p := range append([]string{it.Config}, it.Layers...) {
			if leadsOut(p) {
				return "manifest.json names " + p
			}
		}
	}
	return ""
}

// leadsOut reports whether name is absolute or climbs out of the top of
// the archive, written here independently of the reader's own check.
func leadsOut(name string) bool {
	if strings.HasPrefix(name, "/") {
		return true
	}
	depth := 0
	for _, part := range strings.Split(name, "/") {
		switch part {
		case "", ".":
		case "..":
			if depth--; depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}
