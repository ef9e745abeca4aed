package legacy

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/fuzzcheck"
)

// v1PerByte bounds what a conversion allocates per byte of JSON, beside
// fuzzcheck.Slack, which covers the gzip readers of the layers.
const v1PerByte = 64

// The v1 image IDs of FuzzToOCI's two-image chain.
var (
	fuzzBaseID = strings.Repeat("1", 64)
	fuzzTopID  = strings.Repeat("2", 64)
)

// FuzzToOCI converts a two-image v1 chain whose image JSONs are fuzzed
// (layers chosen by mix: an empty tar or a file, gzipped) and checks that
// ToOCI either fails with an error that says so, or builds an image whose
// manifest decodes as an image manifest naming exactly its config and
// layers, the same config each time it converts the same chain, whose
// config has one history entry per v1 image (empty_layer
// where the layer was empty) and the top JSON's architecture, os, author
// and Env, and whose config blob is in the sink byte for byte.
func FuzzToOCI(f *testing.F) {
	empty, full := emptyLayer(), makeLayer(f, map[string]string{"etc/motd": "hello"}, true)
	f.Add([]byte(`{"id":"`+fuzzBaseID+`","created":"2014-06-01T00:00:00Z","container_config":{"Cmd":["/bin/sh","-c","#(nop) ADD file"]}}`),
		[]byte(`{"id":"`+fuzzTopID+`","parent":"`+fuzzBaseID+`","author":"me","architecture":"arm","os":"linux","config":{"Env":["A=1"],"Cmd":"sh","ExposedPorts":{"80/tcp":{}},"labels":{"a":"b"}}}`), uint8(1))
	f.Add([]byte(`{"id":"`+fuzzBaseID+`","throwaway":false}`), []byte(`{"id":"`+fuzzTopID+`","parent":"`+fuzzBaseID+`","config":null,"container_config":{"Cmd":"old string form"}}`), uint8(0))
	f.Add([]byte(`{"id":"`+fuzzBaseID+`"}`), []byte(`{"id":"`+fuzzTopID+`"}`), uint8(3))
	f.Fuzz(func(t *testing.T, base, top []byte, mix uint8) {
		layers := [2][]byte{empty, empty}
		for i := range layers {
			if mix&(1<<i) != 0 {
				layers[i] = full
			}
		}
		chain := sliceChain([]testImage{{id: fuzzBaseID, json: base, layer: layers[0]}, {id: fuzzTopID, json: top, layer: layers[1]}})
		sink := newMemStore()
		var img *OCIImage
		var err error
		fuzzcheck.Heap(t, "ToOCI", len(base)+len(top), v1PerByte, func() { img, err = ToOCI(context.Background(), chain, sink) })
		if err != nil {
			if !strings.HasPrefix(err.Error(), "converting to OCI: ") {
				t.Fatalf("error does not say what failed: %v", err)
			}
			return
		}
		m := checkOCIImage(t, img, sink)
		for range 3 {
			again, err := ToOCI(context.Background(), sliceChain([]testImage{{id: fuzzBaseID, json: base, layer: layers[0]}, {id: fuzzTopID, json: top, layer: layers[1]}}), newMemStore())
			if err != nil || !bytes.Equal(again.Config, img.Config) {
				t.Fatalf("converting the same chain again gave another config (%v):\n%s\n%s", err, img.Config, again.Config)
			}
		}
		var cfg ocispec.Image
		if err := json.Unmarshal(img.Config, &cfg); err != nil {
			t.Fatal(err)
		}
		if len(cfg.History) != 2 {
			t.Fatalf("%d history entries for 2 v1 images", len(cfg.History))
		}
		for i, h := range cfg.History {
			wantEmpty := slices.Contains(img.EmptyV1Images, chain.ids[i])
			if h.EmptyLayer != wantEmpty || wantEmpty && !bytes.Equal(layers[i], empty) {
				t.Fatalf("history %d: empty_layer %v, EmptyV1Images %v", i, h.EmptyLayer, img.EmptyV1Images)
			}
		}
		if n := 2 - len(img.EmptyV1Images); len(m.Layers) != n {
			t.Fatalf("%d layers, %d v1 images with one", len(m.Layers), n)
		}
		checkTopJSON(t, top, cfg)
	})
}

// checkOCIImage asserts that img's manifest decodes as an image manifest
// whose config and layers are img's and are in sink, and that its
// descriptors describe its bytes. It returns the manifest.
func checkOCIImage(t *testing.T, img *OCIImage, sink *memStore) *ocispec.Manifest {
	t.Helper()
	m, err := content.Decode("", img.Manifest)
	switch {
	case err != nil:
		t.Fatalf("ToOCI wrote a manifest hoist cannot read: %v\n%s", err, img.Manifest)
	case m.Kind != content.KindImage || m.Image.Config.Digest != img.ConfigDescriptor.Digest || !reflect.DeepEqual(m.Image.Layers, img.Layers):
		t.Fatalf("manifest %s does not name the image's config and layers", img.Manifest)
	case img.ManifestDescriptor.Digest != m.Descriptor.Digest || !reflect.DeepEqual(img.ConfigDescriptor, content.NewDescriptor(ocispec.MediaTypeImageConfig, img.Config)):
		t.Fatalf("descriptors %+v / %+v do not describe the bytes", img.ManifestDescriptor, img.ConfigDescriptor)
	case !bytes.Equal(sink.get(t, img.ConfigDescriptor.Digest), img.Config):
		t.Fatal("the config in the sink is not the config")
	case len(img.DiffIDs) != len(img.Layers):
		t.Fatalf("%d diff_ids for %d layers", len(img.DiffIDs), len(img.Layers))
	}
	for i, l := range img.Layers {
		if blob := sink.get(t, l.Digest); int64(len(blob)) != l.Size || sha(gunzip(t, blob)) != img.DiffIDs[i] {
			t.Fatalf("layer %d in the sink does not match its descriptor and diff_id", i)
		}
	}
	return m.Image
}

// checkTopJSON asserts that cfg took what the top v1 JSON says, read here
// independently of v1Meta: architecture and os (amd64 and linux when
// absent), author, and the config's Env when it is a list of strings.
func checkTopJSON(t *testing.T, top []byte, cfg ocispec.Image) {
	t.Helper()
	var j struct {
		Architecture, OS, Author string
		Config                   struct{ Env []string }
	}
	if json.Unmarshal(top, &j) != nil {
		return // converted though fields are of other types: nothing to compare
	}
	if j.Architecture == "" {
		j.Architecture = defaultArchitecture
	}
	if j.OS == "" {
		j.OS = defaultOS
	}
	if cfg.Architecture != j.Architecture || cfg.OS != j.OS || cfg.Author != j.Author {
		t.Fatalf("config says %s/%s by %q, the JSON %s/%s by %q", cfg.OS, cfg.Architecture, cfg.Author, j.OS, j.Architecture, j.Author)
	}
	if j.Config.Env != nil && !slices.Equal(cfg.Config.Env, j.Config.Env) {
		t.Fatalf("Env %q, the JSON says %q", cfg.Config.Env, j.Config.Env)
	}
}

// FuzzFromOCI presents an OCI image with a fuzzed config and up to two
// layers as a v1 chain and converts it back, and checks that FromOCI
// refuses exactly the configs that are not image configs or whose
// diff_ids do not match the layers, and that the round trip keeps the
// layers byte for byte and their diff_ids, the platform, the container
// config, and the history (when it matches the layers), entry by entry.
func FuzzFromOCI(f *testing.F) {
	var layers [][]byte
	for _, name := range []string{"a", "b"} {
		layers = append(layers, makeLayer(f, map[string]string{name: "layer " + name}, true))
	}
	diffs := make([]digest.Digest, len(layers))
	for i, l := range layers {
		diffs[i] = sha(gunzip(f, l))
	}
	withDiffs := func(n int, rest string) []byte {
		b, _ := json.Marshal(diffs[:n])
		return []byte(`{"rootfs":{"type":"layers","diff_ids":` + string(b) + `}` + rest + `}`)
	}
	f.Add(withDiffs(0, ""), uint8(0))
	f.Add(withDiffs(2, `,"architecture":"arm64","os":"linux","variant":"v8","author":"a","created":"2020-01-01T00:00:00Z",
		"config":{"Env":["PATH=/bin"],"Entrypoint":["/e"],"Cmd":[],"User":"1:1","WorkingDir":"/w","Labels":{"k":"v"},"StopSignal":"SIGTERM","ExposedPorts":{"53/udp":{}},"Volumes":{"/v":{}}},
		"history":[{"created_by":"ADD a","author":"x"},{"empty_layer":true,"comment":"c"},{"created_by":"ADD b"}]`), uint8(2))
	f.Add(withDiffs(1, `,"history":[{"empty_layer":true}]`), uint8(1))
	f.Fuzz(func(t *testing.T, config []byte, n uint8) {
		ctx := context.Background()
		src := newMemStore()
		m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Layers: []ocispec.Descriptor{}}
		m.Config = src.add(ocispec.MediaTypeImageConfig, config)
		for _, l := range layers[:int(n)%(len(layers)+1)] {
			m.Layers = append(m.Layers, src.add(ocispec.MediaTypeImageLayerGzip, l))
		}
		manifest, _ := json.Marshal(m)

		var want ocispec.Image
		valid := json.Unmarshal(config, &want) == nil && len(want.RootFS.DiffIDs) == len(m.Layers)
		var chain *OCIChain
		var err error
		fuzzcheck.Heap(t, "FromOCI", len(config), v1PerByte, func() { chain, err = FromOCI(ctx, src, manifest) })
		if (err == nil) != valid {
			t.Fatalf("FromOCI: %v, for a config that is valid: %v", err, valid)
		}
		if err != nil {
			return
		}
		sink := newMemStore()
		img, err := ToOCI(ctx, chain, sink)
		if err != nil {
			t.Fatalf("FromOCI made a chain that ToOCI cannot convert back: %v", err)
		}
		checkOCIImage(t, img, sink)
		var got ocispec.Image
		if err := json.Unmarshal(img.Config, &got); err != nil {
			t.Fatal(err)
		}
		for i, l := range img.Layers {
			if l.Digest != m.Layers[i].Digest || img.DiffIDs[i] != diffs[i] {
				t.Fatalf("layer %d came back as %s with diff_id %s", i, l.Digest, img.DiffIDs[i])
			}
		}
		checkRoundTrip(t, want, got, len(m.Layers))
	})
}

// checkRoundTrip asserts that got, an image config that went to v1 and
// back, says what want said.
func checkRoundTrip(t *testing.T, want, got ocispec.Image, layers int) {
	t.Helper()
	if want.Architecture == "" {
		want.Architecture = defaultArchitecture
	}
	if want.OS == "" {
		want.OS = defaultOS
	}
	if got.Platform.Architecture != want.Architecture || got.OS != want.OS || got.Variant != want.Variant {
		t.Fatalf("platform %+v came back as %+v", want.Platform, got.Platform)
	}
	if !reflect.DeepEqual(normalConfig(got.Config), normalConfig(want.Config)) {
		t.Fatalf("config\n%+v\ncame back as\n%+v", want.Config, got.Config)
	}
	nonEmpty := 0
	for _, h := range want.History {
		if !h.EmptyLayer {
			nonEmpty++
		}
	}
	if len(want.History) == 0 || nonEmpty != layers {
		return // FromOCI makes one v1 image per layer: nothing to compare entry by entry
	}
	if len(got.History) != len(want.History) {
		t.Fatalf("%d history entries came back as %d", len(want.History), len(got.History))
	}
	for i, h := range want.History {
		g := got.History[i]
		if g.CreatedBy != h.CreatedBy || g.Author != h.Author || g.Comment != h.Comment || g.EmptyLayer != h.EmptyLayer || !sameTime(g.Created, h.Created, want.Created) {
			t.Fatalf("history %d\n%+v\ncame back as\n%+v", i, h, g)
		}
	}
}

// normalConfig is c with empty lists and maps as nil: v1 JSON keeps a
// list, not whether it was null or empty.
func normalConfig(c ocispec.ImageConfig) ocispec.ImageConfig {
	if len(c.Env) == 0 {
		c.Env = nil
	}
	if len(c.Entrypoint) == 0 {
		c.Entrypoint = nil
	}
	if len(c.Cmd) == 0 {
		c.Cmd = nil
	}
	if len(c.Labels) == 0 {
		c.Labels = nil
	}
	if len(c.ExposedPorts) == 0 {
		c.ExposedPorts = nil
	}
	if len(c.Volumes) == 0 {
		c.Volumes = nil
	}
	return c
}

// sameTime reports whether got is want, or fallback when want is unset, or
// the Unix epoch when both are: what FromOCI writes as "created".
func sameTime(got, want, fallback *time.Time) bool {
	if want == nil {
		want = fallback
	}
	if want == nil {
		epoch := time.Unix(0, 0)
		want = &epoch
	}
	return got != nil && got.Equal(*want)
}
