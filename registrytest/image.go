package registrytest

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/auth"
	"github.com/hoist-dev/hoist/content"
)

// AddImage pushes a small image to the registry under name, a repository
// with a tag ("team/app:v1") or without (tagged latest), using the
// registry's first user's credentials, and returns its root descriptor.
// Without platforms it is one linux/amd64 image manifest; with platforms
// (os/arch[/variant]) it is an index of one image per platform. Each image
// has one uncompressed layer holding /hello.txt. The same arguments always
// give the same bytes, so the same digests.
func (r *Registry) AddImage(ctx context.Context, name string, platforms ...string) (v1.Descriptor, error) {
	var cred auth.Credential
	for u, p := range r.users {
		if cred.Username == "" || u < cred.Username {
			cred = auth.Credential{Username: u, Password: p}
		}
	}
	s, err := hoist.NewSession(hoist.WithKeychain(auth.Static(cred)))
	if err != nil {
		return v1.Descriptor{}, err
	}
	defer s.Close()
	st, err := s.OpenWriter(ctx, r.host+"/"+strings.TrimPrefix(name, "/"))
	if err != nil {
		return v1.Descriptor{}, err
	}
	defer st.Close()
	push := func(mediaType string, data []byte) (v1.Descriptor, error) {
		d := v1.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
		if err := st.Writer.Push(ctx, d, bytes.NewReader(data)); err != nil {
			return d, fmt.Errorf("registrytest: pushing %s of %s: %w", d.Digest, name, err)
		}
		return d, nil
	}
	var root v1.Descriptor
	if len(platforms) == 0 {
		root, err = pushImage(push, name, v1.Platform{OS: "linux", Architecture: "amd64"})
	} else {
		root, err = pushIndex(push, name, platforms)
	}
	if err != nil {
		return v1.Descriptor{}, err
	}
	if err := st.Writer.Tag(ctx, root, st.Location.TargetTag()); err != nil {
		return v1.Descriptor{}, fmt.Errorf("registrytest: tagging %s: %w", name, err)
	}
	return root, nil
}

type pushFunc func(mediaType string, data []byte) (v1.Descriptor, error)

func pushIndex(push pushFunc, name string, platforms []string) (v1.Descriptor, error) {
	idx := v1.Index{Versioned: ocispec.Versioned{SchemaVersion: 2}, MediaType: v1.MediaTypeImageIndex}
	for _, p := range platforms {
		pl, err := content.ParsePlatform(p)
		if err != nil {
			return v1.Descriptor{}, fmt.Errorf("registrytest: %w", err)
		}
		d, err := pushImage(push, name, pl)
		if err != nil {
			return v1.Descriptor{}, err
		}
		d.Platform = &pl
		idx.Manifests = append(idx.Manifests, d)
	}
	raw, err := json.Marshal(idx)
	if err != nil {
		return v1.Descriptor{}, err
	}
	return push(v1.MediaTypeImageIndex, raw)
}

// pushImage pushes the layer, config and manifest of one image.
func pushImage(push pushFunc, name string, pl v1.Platform) (v1.Descriptor, error) {
	layer, err := tarOf("hello.txt", "hello from "+name+" for "+content.FormatPlatform(pl)+"\n")
	if err != nil {
		return v1.Descriptor{}, err
	}
	layerDesc, err := push(v1.MediaTypeImageLayer, layer)
	if err != nil {
		return v1.Descriptor{}, err
	}
	config, err := json.Marshal(v1.Image{
		Platform: pl,
		Config:   v1.ImageConfig{Cmd: []string{"cat", "/hello.txt"}},
		RootFS:   v1.RootFS{Type: "layers", DiffIDs: []digest.Digest{layerDesc.Digest}},
	})
	if err != nil {
		return v1.Descriptor{}, err
	}
	configDesc, err := push(v1.MediaTypeImageConfig, config)
	if err != nil {
		return v1.Descriptor{}, err
	}
	manifest, err := json.Marshal(v1.Manifest{
		Versioned: ocispec.Versioned{SchemaVersion: 2},
		MediaType: v1.MediaTypeImageManifest,
		Config:    configDesc,
		Layers:    []v1.Descriptor{layerDesc},
	})
	if err != nil {
		return v1.Descriptor{}, err
	}
	return push(v1.MediaTypeImageManifest, manifest)
}

// tarOf returns an uncompressed tar holding one file, with fixed headers so
// that the bytes never change.
func tarOf(name, body string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return nil, err
	}
	if _, err := io.WriteString(tw, body); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
