package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
)

// annotationImageName is containerd's annotation for an image's full name
// in an index.json, which docker load with the containerd image store
// reads.
const annotationImageName = "io.containerd.image.name"

// Close finishes the archive and puts it at its path: it writes the image
// manifests, manifest.json (one entry per tagged image, in Tag order),
// repositories, index.json and oci-layout, ends the tar, fsyncs it and
// renames it over the target. When nothing was tagged, as after a failed
// copy, nothing is written: the temporary file is removed and Close
// reports it. On any error the target is untouched. Close may be called
// once; Abort after Close does nothing.
func (w *Writer) Close() error {
	w.tarMu.Lock()
	defer w.tarMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errClosed(w.path)
	}
	if len(w.roots) == 0 {
		w.discardLocked()
		return fmt.Errorf("no image was tagged into docker archive %s, so it was not written", w.path)
	}
	if err := w.finishLocked(); err != nil {
		w.discardLocked()
		return fmt.Errorf("write docker archive %s: %w", w.path, err)
	}
	w.dropIngestsLocked()
	return nil
}

// Abort abandons the archive (store.Aborter): the temporary file is
// removed and the target left as it was. It is safe to call at any time,
// more than once, and after Close (when it does nothing), so callers can
// defer it.
func (w *Writer) Abort(ctx context.Context) error {
	w.mu.Lock()
	w.closed = true // pushes still running fail from here on
	w.mu.Unlock()
	w.tarMu.Lock()
	defer w.tarMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.discardLocked()
	return nil
}

// discardLocked removes the temporary file. Both locks are held.
func (w *Writer) discardLocked() {
	w.closed = true
	w.dropIngestsLocked()
	if w.f == nil {
		return
	}
	w.f.Abort()
	w.f = nil
}

func (w *Writer) finishLocked() error {
	items := []manifestItem{}
	repos := map[string]map[string]string{}
	entries := []ocispec.Descriptor{}
	for _, rt := range w.roots {
		m := rt.m
		d := m.Descriptor
		if !w.has(d.Digest) {
			if err := w.entryLocked(blobName(d.Digest), int64(len(m.Raw)), bytes.NewReader(m.Raw)); err != nil {
				return err
			}
			w.blobs[d.Digest] = int64(len(m.Raw))
		}
		it := manifestItem{Config: blobName(m.Image.Config.Digest), RepoTags: []string{}, Layers: []string{}}
		for _, l := range m.Image.Layers {
			it.Layers = append(it.Layers, blobName(l.Digest))
		}
		top := topLayerID(w.configs[m.Image.Config.Digest], m.Image)
		entry := ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size}
		if len(rt.tags) == 0 {
			entries = append(entries, entry)
		}
		for _, n := range rt.tags {
			it.RepoTags = append(it.RepoTags, n.Familiar())
			if top != "" {
				repo := n.Context().Familiar()
				if repos[repo] == nil {
					repos[repo] = map[string]string{}
				}
				repos[repo][n.Tag] = top
			}
			e := entry
			e.Annotations = map[string]string{annotationImageName: n.String(), ocispec.AnnotationRefName: n.Tag}
			entries = append(entries, e)
		}
		items = append(items, it)
	}
	files := []struct {
		name string
		v    any
	}{
		{manifestFile, items},
		{repositoriesFile, repos},
		{ociIndexFile, ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: content.MediaTypeOCIIndex, Manifests: entries}},
		{ociLayoutFile, ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion}},
	}
	for _, f := range files {
		if f.name == repositoriesFile && len(repos) == 0 {
			continue // docker save leaves it out for untagged images too
		}
		b, err := json.Marshal(f.v)
		if err != nil {
			return err
		}
		if err := w.entryLocked(f.name, int64(len(b)), bytes.NewReader(b)); err != nil {
			return err
		}
	}
	if err := w.tw.Close(); err != nil {
		return err
	}
	f := w.f
	w.f, w.closed = nil, true
	return f.Commit()
}

// topLayerID is what the repositories file maps a tag to: as in Docker 25,
// the hex of the top layer's diff_id, read from the config (the layer's
// own digest if the config is not at hand).
func topLayerID(config []byte, m *ocispec.Manifest) string {
	if len(m.Layers) == 0 {
		return ""
	}
	var cfg ocispec.Image
	if json.Unmarshal(config, &cfg) == nil && len(cfg.RootFS.DiffIDs) == len(m.Layers) {
		if d := cfg.RootFS.DiffIDs[len(m.Layers)-1]; d.Validate() == nil {
			return d.Encoded()
		}
	}
	return m.Layers[len(m.Layers)-1].Digest.Encoded()
}
