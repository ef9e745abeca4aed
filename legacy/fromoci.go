package legacy

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sync"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
)

// maxConfigSize caps how much of an image config FromOCI reads.
const maxConfigSize = 8 << 20

// v1LayerTypes are the OCI and Docker layer media types a v1 registry can
// carry: tar, plain or gzip-compressed.
var v1LayerTypes = []string{
	ocispec.MediaTypeImageLayer,
	ocispec.MediaTypeImageLayerGzip,
	"application/vnd.oci.image.layer.nondistributable.v1.tar",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	"application/vnd.docker.image.rootfs.diff.tar",
	content.MediaTypeDockerLayer,
	content.MediaTypeDockerForeignLayer,
}

// emptyLayer is the layer of a v1 image made for an empty_layer history
// entry: a tar with no entries (two zero blocks), gzipped. ToOCI reads
// it as empty again.
var emptyLayer = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	gw := gzip.NewWriter(&b)
	gw.Write(make([]byte, 1024))
	gw.Close()
	return b.Bytes()
})

// OCIChain is an OCI image presented as a v1 image chain, for Push. Its
// IDs and JSONs are computed by FromOCI; its layers are fetched from the
// source when Push reads them. It is safe for concurrent use.
type OCIChain struct {
	src    BlobSource
	ids    []string
	json   map[string][]byte
	layers map[string]*ocispec.Descriptor // nil: an empty layer
}

// FromOCI presents a single-platform OCI (or Docker schema 2) image as a
// v1 image chain, so that Push can send it to a v1 registry. manifest is
// the image manifest's bytes; the config is fetched from src, and layers
// are fetched from src when the chain's Layer is called.
//
// One v1 image is made per history entry, base first:
//
//   - an entry with a layer carries the next manifest layer, byte for
//     byte, so a v1 pull of the result converted back by ToOCI has the
//     same layer digests and diff_ids (for gzip layers; an uncompressed
//     tar layer comes back gzipped, with the same diff_id);
//   - an entry marked empty_layer becomes a v1 image whose layer is an
//     empty tar (gzipped), which ToOCI reads as empty again, so history
//     and empty_layer marks survive the round trip too; its JSON says
//     "throwaway": true, docker's mark for such images, and every other
//     JSON says "throwaway": false, which keeps ToOCI from dropping a real
//     layer whose tar happens to be empty;
//   - without history, or with history that does not match the layers,
//     there is one v1 image per layer; an image with no layers and no
//     history still gets one (empty) v1 image, since v1 has no other way
//     to hold a config.
//
// Each v1 JSON holds "id", "parent", "created" (the history entry's, else
// the config's, else the Unix epoch), "author", "comment" and
// "container_config": {"Cmd": [created_by]}; the last (tagged) one also
// holds the config's "config" object verbatim, "architecture", "os" and
// "variant". IDs are deterministic: the hex SHA-256 of the JSON without
// its "id" (which names the parent) followed by a newline and the layer's
// digest, so the same image always gets the same IDs.
//
// Layers must be tar or tar+gzip (OCI or Docker media types); zstd and
// others are refused with ErrUnsupportedLayer, as are manifests that are
// not image manifests (pick a platform from an index first).
func FromOCI(ctx context.Context, src BlobSource, manifest []byte) (*OCIChain, error) {
	var m ocispec.Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("OCI to v1: the manifest is not JSON: %w", err)
	}
	switch {
	case m.SchemaVersion != 2:
		return nil, fmt.Errorf("OCI to v1: manifest schemaVersion %d, want 2", m.SchemaVersion)
	case m.MediaType != "" && content.KindOf(m.MediaType) != content.KindImage:
		return nil, fmt.Errorf("OCI to v1: %s is not an image manifest; pick one platform's manifest first", m.MediaType)
	case content.BaseType(m.Config.MediaType) != ocispec.MediaTypeImageConfig && content.BaseType(m.Config.MediaType) != content.MediaTypeDockerConfig:
		return nil, fmt.Errorf("OCI to v1: config media type %q is not an image config", m.Config.MediaType)
	}
	for i, l := range m.Layers {
		if !slices.Contains(v1LayerTypes, content.BaseType(l.MediaType)) {
			return nil, fmt.Errorf("OCI to v1: layer %d (%s) has media type %s; a v1 registry carries tar layers, plain or gzip: %w", i, l.Digest, l.MediaType, ErrUnsupportedLayer)
		}
	}
	rc, err := src.Fetch(ctx, m.Config)
	if err != nil {
		return nil, fmt.Errorf("OCI to v1: fetching the config: %w", err)
	}
	raw, err := content.ReadCapped(rc, maxConfigSize, "image config")
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("OCI to v1: %w", err)
	}
	var cfg ocispec.Image
	// The "config" member verbatim, found as encoding/json finds it for
	// cfg (any letter case, the last of two spellings), so that the v1
	// JSON carries the same container config that cfg holds.
	var verbatim struct {
		Config json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("OCI to v1: the config is not an image config: %w", err)
	}
	_ = json.Unmarshal(raw, &verbatim) // it is a JSON object: cfg decoded
	if cc := verbatim.Config; len(cc) > 0 && string(cc) != "null" {
		// Two spellings of "config" merge into cfg but leave only the
		// last verbatim: then the v1 JSON carries what cfg holds.
		var vc ocispec.ImageConfig
		if json.Unmarshal(cc, &vc) != nil || !reflect.DeepEqual(vc, cfg.Config) {
			verbatim.Config, _ = json.Marshal(cfg.Config)
		}
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("OCI to v1: the config lists %d diff_ids for %d layers", len(cfg.RootFS.DiffIDs), len(m.Layers))
	}

	type plan struct {
		hist  ocispec.History
		layer *ocispec.Descriptor
	}
	var plans []plan
	nonEmpty := 0
	for _, h := range cfg.History {
		if !h.EmptyLayer {
			nonEmpty++
		}
	}
	if len(cfg.History) > 0 && nonEmpty == len(m.Layers) {
		next := 0
		for _, h := range cfg.History {
			p := plan{hist: h}
			if !h.EmptyLayer {
				p.layer = &m.Layers[next]
				next++
			}
			plans = append(plans, p)
		}
	} else {
		for i := range m.Layers {
			plans = append(plans, plan{hist: ocispec.History{Created: cfg.Created}, layer: &m.Layers[i]})
		}
		if len(plans) == 0 {
			plans = append(plans, plan{hist: ocispec.History{Created: cfg.Created, EmptyLayer: true}})
		}
		plans[len(plans)-1].hist.Author = cfg.Author
	}

	c := &OCIChain{src: src, json: map[string][]byte{}, layers: map[string]*ocispec.Descriptor{}}
	parent := ""
	for i, p := range plans {
		j := v1JSON{
			Parent:  parent,
			Created: formatCreated(p.hist.Created, cfg.Created),
			Author:  p.hist.Author,
			Comment: p.hist.Comment,
		}
		if p.hist.CreatedBy != "" {
			j.ContainerConfig.Cmd = []string{p.hist.CreatedBy}
		}
		throwAway := p.layer == nil
		j.ThrowAway = &throwAway
		if i == len(plans)-1 {
			if cc := verbatim.Config; len(cc) > 0 && string(cc) != "null" {
				j.Config = cc
			}
			j.Architecture, j.OS, j.Variant = cfg.Architecture, cfg.OS, cfg.Variant
		}
		layerKey := digestOf(emptyLayer())
		if p.layer != nil {
			layerKey = p.layer.Digest.String()
		}
		id, b, err := j.withID(layerKey)
		if err != nil {
			return nil, fmt.Errorf("OCI to v1: %w", err)
		}
		c.ids = append(c.ids, id)
		c.json[id] = b
		c.layers[id] = p.layer
		parent = id
	}
	return c, nil
}

// v1JSON is the image JSON FromOCI writes, in docker's field order.
type v1JSON struct {
	ID              string `json:"id,omitempty"`
	Parent          string `json:"parent,omitempty"`
	Created         string `json:"created"`
	Author          string `json:"author,omitempty"`
	Comment         string `json:"comment,omitempty"`
	ContainerConfig struct {
		Cmd []string `json:"Cmd"`
	} `json:"container_config"`
	Config       json.RawMessage `json:"config,omitempty"`
	Architecture string          `json:"architecture,omitempty"`
	OS           string          `json:"os,omitempty"`
	Variant      string          `json:"variant,omitempty"`
	ThrowAway    *bool           `json:"throwaway,omitempty"`
}

// withID derives the image ID from the JSON without it and layerKey, and
// returns the ID and the JSON with it.
func (j v1JSON) withID(layerKey string) (string, []byte, error) {
	j.ID = ""
	b, err := json.Marshal(j)
	if err != nil {
		return "", nil, err
	}
	h := sha256.New()
	h.Write(b)
	h.Write([]byte("\n" + layerKey))
	j.ID = hex.EncodeToString(h.Sum(nil))
	if b, err = json.Marshal(j); err != nil {
		return "", nil, err
	}
	return j.ID, b, nil
}

// formatCreated writes a history entry's time, else the config's, else
// the Unix epoch (v1 JSONs always have "created").
func formatCreated(t, fallback *time.Time) string {
	switch {
	case t != nil:
		return t.Format(time.RFC3339Nano)
	case fallback != nil:
		return fallback.Format(time.RFC3339Nano)
	}
	return time.Unix(0, 0).UTC().Format(time.RFC3339Nano)
}

func digestOf(b []byte) string {
	return content.NewDescriptor("", b).Digest.String()
}

// IDs returns the v1 image IDs, base first.
func (c *OCIChain) IDs() []string { return c.ids }

// JSON returns the v1 JSON of image id.
func (c *OCIChain) JSON(_ context.Context, id string) ([]byte, error) {
	b, ok := c.json[id]
	if !ok {
		return nil, fmt.Errorf("image %s is not in this chain", id)
	}
	return b, nil
}

// Layer returns the layer of image id: the OCI layer blob from the source
// (verified by it as it is read), or an empty tar for an empty_layer
// history entry.
func (c *OCIChain) Layer(ctx context.Context, id string) (io.ReadCloser, error) {
	l, ok := c.layers[id]
	switch {
	case !ok:
		return nil, fmt.Errorf("image %s is not in this chain", id)
	case l == nil:
		return io.NopCloser(bytes.NewReader(emptyLayer())), nil
	}
	return c.src.Fetch(ctx, *l)
}

// LayerDescriptor returns the OCI layer blob that image id's layer is,
// byte for byte, and false for an image whose layer is the empty tar made
// for an empty_layer history entry (Layer serves that one). A registry
// that serves the chain over v1 uses it to serve the OCI blob it already
// holds instead of a copy.
func (c *OCIChain) LayerDescriptor(id string) (ocispec.Descriptor, bool) {
	l := c.layers[id]
	if l == nil {
		return ocispec.Descriptor{}, false
	}
	return *l, true
}
