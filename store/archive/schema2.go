package archive

import digest "github.com/opencontainers/go-digest"

// schema2Manifest is the Docker schema 2 manifest hoist presents for a
// docker save entry that carries none of its own. Its fields, and those of
// schema2Descriptor, are in the order docker's distribution package and
// go-containerregistry serialise them (mediaType, size, digest; not
// ocispec.Descriptor's mediaType, digest, size), and it is marshalled
// compactly as crane does, so pushing the same archive with hoist or with
// crane gives the same manifest digest.
type schema2Manifest struct {
	SchemaVersion int                 `json:"schemaVersion"`
	MediaType     string              `json:"mediaType"`
	Config        schema2Descriptor   `json:"config"`
	Layers        []schema2Descriptor `json:"layers"`
}

// schema2Descriptor is a descriptor of a schema2Manifest.
type schema2Descriptor struct {
	MediaType string        `json:"mediaType"`
	Size      int64         `json:"size"`
	Digest    digest.Digest `json:"digest"`
}
