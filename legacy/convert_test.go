package legacy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/server"
)

func decodeImage(t testing.TB, img *OCIImage) (ocispec.Manifest, ocispec.Image) {
	t.Helper()
	var m ocispec.Manifest
	var cfg ocispec.Image
	if err := json.Unmarshal(img.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(img.Config, &cfg); err != nil {
		t.Fatal(err)
	}
	return m, cfg
}

// The testdata chain, pulled from the v1 server, becomes an OCI image:
// the gzipped layers are kept byte for byte, diff_ids are the sha256 of
// the gunzipped layers, and there is one history entry per v1 image.
func TestPullTestdataChainToOCI(t *testing.T) {
	_, ts := v1Server(t, nil)
	chain := testChain(t)
	seed(t, ts.URL, "foo42/bar", "latest", chain)
	ctx := context.Background()
	rc, err := newTestClient(t, hostOf(ts)).Pull(ctx, "foo42/bar", "latest")
	if err != nil {
		t.Fatal(err)
	}
	sink := newMemStore()
	img, err := ToOCI(ctx, rc, sink)
	if err != nil {
		t.Fatal(err)
	}
	m, cfg := decodeImage(t, img)
	if m.MediaType != ocispec.MediaTypeImageManifest || m.SchemaVersion != 2 || m.Config.MediaType != ocispec.MediaTypeImageConfig {
		t.Errorf("manifest %s", img.Manifest)
	}
	if img.ManifestDescriptor.Digest != sha(img.Manifest) || m.Config.Digest != sha(img.Config) {
		t.Error("descriptors do not match the bytes")
	}
	if !bytes.Equal(sink.get(t, m.Config.Digest), img.Config) {
		t.Error("the config in the sink differs from the one returned")
	}
	if len(m.Layers) != 2 || len(cfg.RootFS.DiffIDs) != 2 || len(cfg.History) != 2 {
		t.Fatalf("%d layers, %d diff_ids, %d history entries; want 2 of each", len(m.Layers), len(cfg.RootFS.DiffIDs), len(cfg.History))
	}
	for i, want := range chain {
		l := m.Layers[i]
		if l.MediaType != ocispec.MediaTypeImageLayerGzip {
			t.Errorf("layer %d media type %s", i, l.MediaType)
		}
		if got := sink.get(t, l.Digest); !bytes.Equal(got, want.layer) {
			t.Errorf("layer %d is not the v1 layer byte for byte", i)
		}
		if cfg.RootFS.DiffIDs[i] != sha(gunzip(t, want.layer)) {
			t.Errorf("diff_id %d = %s, want sha256 of the gunzipped layer", i, cfg.RootFS.DiffIDs[i])
		}
		if cfg.History[i].EmptyLayer || cfg.History[i].Comment != "test base image" {
			t.Errorf("history %d = %+v", i, cfg.History[i])
		}
	}
	if cfg.Architecture != "amd64" || cfg.OS != "linux" || cfg.RootFS.Type != "layers" {
		t.Errorf("config platform %s/%s rootfs %s", cfg.OS, cfg.Architecture, cfg.RootFS.Type)
	}
	wantCreated := time.Date(2013, 3, 23, 12, 55, 11, 104320000, time.FixedZone("", -7*3600))
	if cfg.Created == nil || !cfg.Created.Equal(wantCreated) || !cfg.History[0].Created.Before(*cfg.History[1].Created) {
		t.Errorf("created %v, history %v %v", cfg.Created, cfg.History[0].Created, cfg.History[1].Created)
	}
	if !bytes.Contains(img.Config, []byte(`"created":"2013-03-23T12:55:11.10432-07:00"`)) {
		t.Errorf("created not kept as written: %s", img.Config)
	}
}

// emptyTarVariants are layers whose tar has no entries.
func emptyTarVariants(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"no bytes":          {},
		"end blocks":        make([]byte, 1024),
		"gzipped end block": emptyLayer(),
		"tar.Writer, gzip":  makeLayer(t, nil, true),
		"10 KiB of zeros":   make([]byte, 10240),
	}
}

func TestToOCILayers(t *testing.T) {
	ctx := context.Background()
	plain := makeLayer(t, map[string]string{"a": "plain file"}, false)
	gz := makeLayer(t, map[string]string{"b": "gzipped file"}, true)
	big := makeLayer(t, map[string]string{"c": strings.Repeat("big and incompressible? no, but long ", 10000)}, false)

	for name, empty := range emptyTarVariants(t) {
		t.Run("empty: "+name, func(t *testing.T) {
			images := newChain(t, plain, empty, gz)
			sink := newMemStore()
			img, err := ToOCI(ctx, sliceChain(images), sink)
			if err != nil {
				t.Fatal(err)
			}
			_, cfg := decodeImage(t, img)
			var marks []bool
			for _, h := range cfg.History {
				marks = append(marks, h.EmptyLayer)
			}
			if !slices.Equal(marks, []bool{false, true, false}) || len(img.Layers) != 2 || !slices.Equal(img.EmptyV1Images, []string{images[1].id}) {
				t.Fatalf("empty_layer marks %v, %d layers, empty images %v", marks, len(img.Layers), img.EmptyV1Images)
			}
			if sink.puts != 3 {
				t.Errorf("%d blobs stored, want 2 layers and the config", sink.puts)
			}
		})
	}

	t.Run("uncompressed layers are gzipped", func(t *testing.T) {
		sink := newMemStore()
		img, err := ToOCI(ctx, sliceChain(newChain(t, plain, big)), sink)
		if err != nil {
			t.Fatal(err)
		}
		for i, raw := range [][]byte{plain, big} {
			blob := sink.get(t, img.Layers[i].Digest)
			if detectCompression(blob) != compGzip || !bytes.Equal(gunzip(t, blob), raw) {
				t.Errorf("layer %d: not the tar, gzipped", i)
			}
			if img.DiffIDs[i] != sha(raw) {
				t.Errorf("layer %d diff_id %s, want sha256 of the tar", i, img.DiffIDs[i])
			}
		}
		// Deterministic: the same chain gives the same image.
		again, err := ToOCI(ctx, sliceChain(newChain(t, plain, big)), newMemStore())
		if err != nil {
			t.Fatal(err)
		}
		if again.Layers[1].Digest != img.Layers[1].Digest {
			t.Error("gzipping the same tar twice gave different blobs")
		}
	})

	t.Run("bzip2 is recompressed with gzip", func(t *testing.T) {
		bz := compressWith(t, "bzip2", plain)
		img, err := ToOCI(ctx, sliceChain(newChain(t, bz)), newMemStore())
		if err != nil {
			t.Fatal(err)
		}
		if img.DiffIDs[0] != sha(plain) {
			t.Errorf("diff_id %s, want sha256 of the tar", img.DiffIDs[0])
		}
	})

	for _, tool := range []string{"xz", "zstd"} {
		t.Run(tool+" is refused", func(t *testing.T) {
			_, err := ToOCI(ctx, sliceChain(newChain(t, compressWith(t, tool, plain))), newMemStore())
			if !errors.Is(err, ErrUnsupportedLayer) || !strings.Contains(err.Error(), tool) {
				t.Fatalf("err = %v, want ErrUnsupportedLayer naming %s", err, tool)
			}
		})
	}

	t.Run("a corrupt gzip layer fails", func(t *testing.T) {
		bad := bytes.Clone(gz)
		bad[len(bad)-5] ^= 0xff // the CRC
		if _, err := ToOCI(ctx, sliceChain(newChain(t, bad)), newMemStore()); err == nil {
			t.Fatal("a layer with a bad gzip CRC converted")
		}
	})

	t.Run("an inconsistent chain fails", func(t *testing.T) {
		images := newChain(t, plain, gz)
		images[1].json = []byte(`{"id":"` + images[1].id + `"}`) // no parent
		if _, err := ToOCI(ctx, sliceChain(images), newMemStore()); err == nil || !strings.Contains(err.Error(), "parent") {
			t.Fatalf("err = %v, want one about the parent", err)
		}
	})
}

// compressWith compresses b with an external tool (bzip2, xz, zstd),
// since Go's standard library only reads bzip2 and not the others.
func compressWith(t testing.TB, tool string, b []byte) []byte {
	t.Helper()
	path := testutil.NeedBinary(t, tool, "apt-get install "+map[string]string{"bzip2": "bzip2", "xz": "xz-utils", "zstd": "zstd"}[tool])
	cmd := exec.Command(path, "-c")
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	return out
}

// A v1 layer that fails its checksum on the way fails the conversion:
// the sink sees the read error and must not keep the blob.
func TestToOCIFailsOnCorruptDownload(t *testing.T) {
	_, ts := v1Server(t, nil)
	seed(t, ts.URL, "foo42/bar", "latest", testChain(t))
	proxy := testutil.NewFaultProxy(t, ts.URL, testutil.Fault{
		Match: testutil.MatchRequest(http.MethodGet, baseID+"/layer"), Action: testutil.CorruptResponseAt(100),
	})
	ctx := context.Background()
	rc, err := newTestClient(t, proxy.Host).Pull(ctx, "foo42/bar", "latest")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ToOCI(ctx, rc, newMemStore())
	if !errors.Is(err, errcode.ErrDigestMismatch) {
		t.Fatalf("err = %v, want ErrDigestMismatch", err)
	}
}

// A sink that lies about what it stored, or stops reading, is caught.
func TestToOCIChecksTheSink(t *testing.T) {
	ctx := context.Background()
	images := newChain(t, makeLayer(t, map[string]string{"x": "y"}, true), makeLayer(t, map[string]string{"z": "w"}, false))
	lying := BlobSinkFunc(func(_ context.Context, mt string, r io.Reader) (ocispec.Descriptor, error) {
		b, err := io.ReadAll(r)
		return ocispec.Descriptor{MediaType: mt, Digest: digest.FromString("other"), Size: int64(len(b))}, err
	})
	if _, err := ToOCI(ctx, sliceChain(images), lying); err == nil || !strings.Contains(err.Error(), "blob sink stored") {
		t.Errorf("lying sink: err = %v", err)
	}
	lazy := BlobSinkFunc(func(_ context.Context, mt string, r io.Reader) (ocispec.Descriptor, error) {
		b := make([]byte, 10)
		n, _ := r.Read(b)
		return content.NewDescriptor(mt, b[:n]), nil
	})
	if _, err := ToOCI(ctx, sliceChain(images), lazy); err == nil {
		t.Error("a sink that did not read the whole layer went unnoticed")
	}
	failing := BlobSinkFunc(func(context.Context, string, io.Reader) (ocispec.Descriptor, error) {
		return ocispec.Descriptor{}, errors.New("disk full")
	})
	if _, err := ToOCI(ctx, sliceChain(images), failing, WithConcurrency(1)); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("failing sink: err = %v", err)
	}
}

// An OCI image pushed to a v1 registry and pulled back comes back with
// the same layers, diff_ids and history, including empty layers.
func TestOCIToV1AndBack(t *testing.T) {
	store := newMemStore()
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	at := func(m int) *time.Time { x := t0.Add(time.Duration(m) * time.Minute); return &x }
	layers := [][]byte{
		makeLayer(t, map[string]string{"bin/sh": "#!"}, true),
		makeLayer(t, map[string]string{"etc/app.conf": "x=1"}, true),
		makeLayer(t, nil, true), // a real layer whose tar is empty (RUN true)
	}
	history := []ocispec.History{
		{Created: at(0), CreatedBy: "/bin/sh -c #(nop) ADD file:abc in /", Comment: "base"},
		{Created: at(1), CreatedBy: `/bin/sh -c #(nop)  ENV A=b`, EmptyLayer: true},
		{Created: at(2), CreatedBy: "/bin/sh -c echo x=1 > /etc/app.conf", Author: "someone"},
		{Created: at(3), CreatedBy: "/bin/sh -c true", Author: "someone"},
		{Created: at(4), CreatedBy: `/bin/sh -c #(nop)  CMD ["app"]`, EmptyLayer: true, Author: "someone"},
	}
	imgCfg := ocispec.ImageConfig{Env: []string{"A=b"}, Cmd: []string{"app"}, WorkingDir: "/srv", Labels: map[string]string{"k": "v"}, ExposedPorts: map[string]struct{}{"80/tcp": {}}}
	manifest := ociImage(t, store, layers, history, imgCfg)
	ctx := context.Background()

	chain, err := FromOCI(ctx, store, manifest)
	if err != nil {
		t.Fatal(err)
	}
	if len(chain.IDs()) != 5 {
		t.Fatalf("%d v1 images, want one per history entry", len(chain.IDs()))
	}
	again, _ := FromOCI(ctx, store, manifest)
	if !slices.Equal(again.IDs(), chain.IDs()) {
		t.Error("v1 IDs are not deterministic")
	}

	_, ts := v1Server(t, nil, server.WithV1Account(foo42))
	c := newTestClient(t, hostOf(ts), WithKeychain(staticCred(foo42)))
	if _, err := c.Push(ctx, "foo42/app", "1.0", chain); err != nil {
		t.Fatal(err)
	}
	pulled, err := c.Pull(ctx, "foo42/app", "1.0")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pulled.IDs(), chain.IDs()) {
		t.Errorf("pulled IDs %v, pushed %v", pulled.IDs(), chain.IDs())
	}
	sink := newMemStore()
	img, err := ToOCI(ctx, pulled, sink)
	if err != nil {
		t.Fatal(err)
	}
	var om ocispec.Manifest
	json.Unmarshal(manifest, &om)
	origCfg := store.get(t, om.Config.Digest)
	var oc ocispec.Image
	json.Unmarshal(origCfg, &oc)
	m, cfg := decodeImage(t, img)

	var gotLayers, wantLayers []digest.Digest
	for i := range m.Layers {
		gotLayers = append(gotLayers, m.Layers[i].Digest)
	}
	for i := range om.Layers {
		wantLayers = append(wantLayers, om.Layers[i].Digest)
	}
	if !slices.Equal(gotLayers, wantLayers) {
		t.Errorf("layer digests %v, want %v", gotLayers, wantLayers)
	}
	if !slices.Equal(cfg.RootFS.DiffIDs, oc.RootFS.DiffIDs) {
		t.Errorf("diff_ids %v, want %v", cfg.RootFS.DiffIDs, oc.RootFS.DiffIDs)
	}
	if len(cfg.History) != len(history) {
		t.Fatalf("%d history entries, want %d", len(cfg.History), len(history))
	}
	for i, h := range history {
		g := cfg.History[i]
		if !g.Created.Equal(*h.Created) || g.CreatedBy != h.CreatedBy || g.EmptyLayer != h.EmptyLayer || g.Author != h.Author || g.Comment != h.Comment {
			t.Errorf("history %d = %+v, want %+v", i, g, h)
		}
	}
	if cfg.Architecture != "arm64" || cfg.OS != "linux" || cfg.Variant != "v8" || cfg.Author != "someone" || !cfg.Created.Equal(*at(4)) {
		t.Errorf("config platform/author/created: %+v", cfg)
	}
	if !slices.Equal(cfg.Config.Env, imgCfg.Env) || !slices.Equal(cfg.Config.Cmd, imgCfg.Cmd) || cfg.Config.WorkingDir != "/srv" ||
		cfg.Config.Labels["k"] != "v" || len(cfg.Config.ExposedPorts) != 1 {
		t.Errorf("config.config = %+v, want %+v", cfg.Config, imgCfg)
	}
}

func TestFromOCIEdgeCases(t *testing.T) {
	ctx := context.Background()
	gz := makeLayer(t, map[string]string{"f": "1"}, true)
	plain := makeLayer(t, map[string]string{"g": "2"}, false)

	t.Run("no history: one v1 image per layer", func(t *testing.T) {
		s := newMemStore()
		chain, err := FromOCI(ctx, s, ociImage(t, s, [][]byte{gz, plain}, nil, ocispec.ImageConfig{}))
		if err != nil {
			t.Fatal(err)
		}
		if len(chain.IDs()) != 2 {
			t.Fatalf("%d images", len(chain.IDs()))
		}
		img, err := ToOCI(ctx, chain, newMemStore())
		if err != nil {
			t.Fatal(err)
		}
		// The uncompressed layer comes back gzipped: same diff_id, new digest.
		if img.DiffIDs[1] != sha(plain) || img.Layers[0].Digest != sha(gz) {
			t.Errorf("layers %v diff_ids %v", img.Layers, img.DiffIDs)
		}
	})
	t.Run("no layers at all: one empty v1 image", func(t *testing.T) {
		s := newMemStore()
		chain, err := FromOCI(ctx, s, ociImage(t, s, nil, nil, ocispec.ImageConfig{Cmd: []string{"x"}}))
		if err != nil {
			t.Fatal(err)
		}
		img, err := ToOCI(ctx, chain, newMemStore())
		if err != nil {
			t.Fatal(err)
		}
		_, cfg := decodeImage(t, img)
		if len(img.Layers) != 0 || len(cfg.History) != 1 || !cfg.History[0].EmptyLayer || !slices.Equal(cfg.Config.Cmd, []string{"x"}) {
			t.Errorf("image %s", img.Config)
		}
		if !bytes.Contains(img.Config, []byte(`"diff_ids":[]`)) || !bytes.Contains(img.Manifest, []byte(`"layers":[]`)) {
			t.Errorf("empty lists must be [] not null:\n%s\n%s", img.Config, img.Manifest)
		}
	})
	t.Run("zstd layer refused", func(t *testing.T) {
		s := newMemStore()
		mb := ociImage(t, s, [][]byte{gz}, nil, ocispec.ImageConfig{})
		mb = bytes.Replace(mb, []byte(ocispec.MediaTypeImageLayerGzip), []byte(ocispec.MediaTypeImageLayerZstd), 1)
		if _, err := FromOCI(ctx, s, mb); !errors.Is(err, ErrUnsupportedLayer) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("an index is refused", func(t *testing.T) {
		_, err := FromOCI(ctx, newMemStore(), []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`))
		if err == nil || !strings.Contains(err.Error(), "platform") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("diff_ids must match layers", func(t *testing.T) {
		s := newMemStore()
		mb := ociImage(t, s, [][]byte{gz}, nil, ocispec.ImageConfig{})
		var m ocispec.Manifest
		json.Unmarshal(mb, &m)
		m.Layers = append(m.Layers, m.Layers[0])
		mb, _ = json.Marshal(m)
		if _, err := FromOCI(ctx, s, mb); err == nil || !strings.Contains(err.Error(), "diff_ids") {
			t.Fatalf("err = %v", err)
		}
	})
}
