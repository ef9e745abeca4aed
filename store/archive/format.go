package archive

import (
	"bytes"
	"io"
	"path"
	"strings"

	digest "github.com/opencontainers/go-digest"
)

// File names at the top of a docker save tarball.
const (
	manifestFile     = "manifest.json"
	repositoriesFile = "repositories"
	ociIndexFile     = "index.json"
	ociLayoutFile    = "oci-layout"
)

// Media types of layers as docker archives store them, beyond those of
// package content.
const (
	// MediaTypeDockerLayerTar is an uncompressed Docker layer: what docker
	// save writes.
	MediaTypeDockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar"
	// MediaTypeDockerLayerZstd is a zstd-compressed Docker layer, as
	// containerd names it.
	MediaTypeDockerLayerZstd = "application/vnd.docker.image.rootfs.diff.tar.zstd"
)

// Size caps for the JSON files of an archive.
const (
	maxManifestJSON = 16 << 20
	maxConfig       = 16 << 20
	maxIndexJSON    = 16 << 20
)

// manifestItem is one image of manifest.json.
type manifestItem struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
	// Parent and LayerSources are docker's; hoist reads neither but keeps
	// the shape.
	Parent       string         `json:"Parent,omitempty"`
	LayerSources map[string]any `json:"LayerSources,omitempty"`
}

// cleanName normalises a tar member name or a path manifest.json gives:
// "./a//b" is "a/b".
func cleanName(name string) string {
	name = path.Clean("/" + strings.TrimPrefix(name, "./"))
	return strings.TrimPrefix(name, "/")
}

// blobName is where hoist (and Docker 25+) store a blob in the tar.
func blobName(d digest.Digest) string {
	return "blobs/" + d.Algorithm().String() + "/" + d.Encoded()
}

// digestOfBlobName returns the digest a blobs/ALG/HEX name spells, if it
// is one.
func digestOfBlobName(name string) (digest.Digest, bool) {
	parts := strings.Split(name, "/")
	if len(parts) != 3 || parts[0] != "blobs" {
		return "", false
	}
	d := digest.NewDigestFromEncoded(digest.Algorithm(parts[1]), parts[2])
	return d, d.Validate() == nil
}

// compression is how a layer file is stored.
type compression int

const (
	uncompressed compression = iota
	gzipped
	zstded
)

// sniff tells a layer's compression from its first bytes.
func sniff(r io.ReaderAt) compression {
	var b [4]byte
	n, _ := r.ReadAt(b[:], 0)
	switch {
	case n >= 2 && bytes.Equal(b[:2], []byte{0x1f, 0x8b}):
		return gzipped
	case n >= 4 && bytes.Equal(b[:4], []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return zstded
	}
	return uncompressed
}

// layerMediaType is the Docker media type of a layer stored with c.
func (c compression) layerMediaType() string {
	switch c {
	case gzipped:
		return "application/vnd.docker.image.rootfs.diff.tar.gzip"
	case zstded:
		return MediaTypeDockerLayerZstd
	}
	return MediaTypeDockerLayerTar
}
