package copy

import (
	"encoding/json"
	"fmt"

	"github.com/hoist-dev/hoist/content"
)

// ociType maps Docker media types to their OCI equivalents.
var ociType = map[string]string{
	content.MediaTypeDockerManifest:                     content.MediaTypeOCIManifest,
	content.MediaTypeDockerManifestList:                 content.MediaTypeOCIIndex,
	content.MediaTypeDockerConfig:                       content.MediaTypeOCIConfig,
	content.MediaTypeDockerLayer:                        content.MediaTypeOCILayerGzip,
	"application/vnd.docker.image.rootfs.diff.tar":      content.MediaTypeOCILayer,
	content.MediaTypeDockerForeignLayer:                 "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	"application/vnd.docker.image.rootfs.diff.tar.zstd": content.MediaTypeOCILayerZstd,
}

// toOCI converts n (whose children are already converted) to OCI media
// types. A node that is already OCI, with children that did not change, is
// returned as it is: its bytes and digest stay.
func toOCI(n *node) (*node, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(n.raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", describe(n.desc), err)
	}
	changed := false
	setType := func(obj map[string]json.RawMessage) {
		var mt string
		if json.Unmarshal(obj["mediaType"], &mt) == nil {
			if o, ok := ociType[mt]; ok {
				obj["mediaType"], _ = json.Marshal(o)
				changed = true
			}
		}
	}
	setType(doc)
	editDescs := func(key string, edit func(i int, d map[string]json.RawMessage)) error {
		raw, ok := doc[key]
		if !ok {
			return nil
		}
		if key == "config" {
			var d map[string]json.RawMessage
			if err := json.Unmarshal(raw, &d); err != nil {
				return err
			}
			edit(0, d)
			doc[key], _ = json.Marshal(d)
			return nil
		}
		var ds []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &ds); err != nil {
			return err
		}
		for i, d := range ds {
			edit(i, d)
		}
		doc[key], _ = json.Marshal(ds)
		return nil
	}
	var err error
	switch n.m.Kind {
	case content.KindImage:
		if err = editDescs("config", func(_ int, d map[string]json.RawMessage) { setType(d) }); err == nil {
			err = editDescs("layers", func(_ int, d map[string]json.RawMessage) { setType(d) })
		}
	case content.KindIndex:
		err = editDescs("manifests", func(i int, d map[string]json.RawMessage) {
			ch := n.children[i].desc
			if ch.Digest != n.m.Index.Manifests[i].Digest {
				d["digest"], _ = json.Marshal(ch.Digest)
				d["size"], _ = json.Marshal(ch.Size)
				d["mediaType"], _ = json.Marshal(ch.MediaType)
				changed = true
			}
		})
	}
	if err != nil {
		return nil, fmt.Errorf("convert %s to OCI: %w", describe(n.desc), err)
	}
	if !changed {
		return n, nil
	}
	out, err := rewrite(n, doc)
	if err != nil {
		return nil, err
	}
	out.children = n.children
	return out, nil
}
