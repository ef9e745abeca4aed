package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	lib "github.com/hoist-dev/hoist"
	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/store"
)

// errNoTag is a target without the run's tag: nothing was named, which is
// what a clean failure leaves.
var errNoTag = errors.New("the tag is not there")

// verifier reads targets directly, without the proxies, through hoist's
// stores, which check every digest and size as they read.
type verifier struct{ s *lib.Session }

func newVerifier() (*verifier, error) {
	s, err := lib.NewSession(lib.WithConfigDir(emptyDir()))
	if err != nil {
		return nil, err
	}
	return &verifier{s: s}, nil
}

// check reads location's image (tag ref, or the only image when ref is
// "") and every manifest and blob under it. want is the source image: a
// registry or layout must hold its root digest, an archive (one platform,
// possibly converted) the config of want's first manifest. It returns
// errNoTag when the location or its tag is absent.
func (v *verifier) check(ctx context.Context, location, ref string, want *image, archive bool) error {
	if dir, ok := strings.CutPrefix(location, "oci:"); ok {
		// A layout being created has no oci-layout file yet: it is not a
		// layout to any reader, so nothing in it is visible.
		if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
			return errNoTag
		}
	}
	if file, ok := strings.CutPrefix(location, "docker-archive:"); ok {
		if _, err := os.Stat(file); err != nil {
			return errNoTag
		}
	}
	st, err := v.s.OpenReader(ctx, location)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errNoTag
		}
		return err
	}
	defer st.Close()
	root, err := st.Reader.Resolve(ctx, ref)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errNoTag
		}
		return err
	}
	configs := map[digest.Digest]bool{}
	if err := walk(ctx, st.Reader, root, configs, 0); err != nil {
		return err
	}
	if archive {
		if c := want.img.Configs[0].Digest; !configs[c] {
			return fmt.Errorf("the archive holds configs %v, not %s", keys(configs), c)
		}
		return nil
	}
	if root.Digest != want.img.Root.Digest {
		return fmt.Errorf("the tag names %s, the source is %s", root.Digest, want.img.Root.Digest)
	}
	return nil
}

func walk(ctx context.Context, r store.Reader, d ocispec.Descriptor, configs map[digest.Digest]bool, depth int) error {
	if depth > 4 {
		return fmt.Errorf("%s: nested too deep", d.Digest)
	}
	rc, err := r.Fetch(ctx, d)
	if err != nil {
		return fmt.Errorf("manifest %s: %w", d.Digest, err)
	}
	raw, err := content.ReadCapped(rc, content.DefaultMaxManifestSize, "manifest "+d.Digest.String())
	rc.Close()
	if err != nil {
		return err
	}
	m, err := content.Decode(d.MediaType, raw)
	if err != nil {
		return err
	}
	for _, ch := range content.Children(m) {
		switch ch.Role {
		case content.RoleSubject:
			continue
		case content.RoleManifest:
			if err := walk(ctx, r, ch.Descriptor, configs, depth+1); err != nil {
				return err
			}
			continue
		case content.RoleConfig:
			configs[ch.Descriptor.Digest] = true
		}
		rc, err := r.Fetch(ctx, ch.Descriptor)
		if err != nil {
			return fmt.Errorf("%s %s: %w", ch.Role, ch.Descriptor.Digest, err)
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("%s %s: %w", ch.Role, ch.Descriptor.Digest, err)
		}
	}
	return nil
}

func keys(m map[digest.Digest]bool) []digest.Digest {
	var out []digest.Digest
	for k := range m {
		out = append(out, k)
	}
	return out
}
