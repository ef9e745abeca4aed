package ocilayout

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
)

// maxIndexSize caps index.json: a layout with thousands of tags stays well
// under it.
const maxIndexSize = 64 << 20

func specsVersioned() specs.Versioned { return specs.Versioned{SchemaVersion: 2} }

// index is index.json as read, keeping every member this package does not
// touch (top-level fields, unknown descriptor fields, other annotations) so
// that rewriting it loses nothing another tool put there.
type index struct {
	fields  map[string]json.RawMessage
	entries []*entry
}

// entry is one descriptor of index.json's manifests.
type entry struct {
	fields map[string]json.RawMessage
	desc   ocispec.Descriptor
}

// refName is the entry's tag, or "".
func (e *entry) refName() string { return e.desc.Annotations[ocispec.AnnotationRefName] }

// setRefName sets the entry's tag annotation.
func (e *entry) setRefName(tag string) error {
	if e.desc.Annotations == nil {
		e.desc.Annotations = map[string]string{}
	}
	e.desc.Annotations[ocispec.AnnotationRefName] = tag
	return e.setAnnotations()
}

// setAnnotations writes the entry's annotations back into its fields.
func (e *entry) setAnnotations() error {
	if len(e.desc.Annotations) == 0 {
		delete(e.fields, "annotations")
		return nil
	}
	b, err := json.Marshal(e.desc.Annotations)
	if err != nil {
		return err
	}
	e.fields["annotations"] = b
	return nil
}

// newEntry is the index.json entry for desc, tagged tag unless tag is "".
func newEntry(desc ocispec.Descriptor, tag string) (*entry, error) {
	d := ocispec.Descriptor{
		MediaType: desc.MediaType, ArtifactType: desc.ArtifactType,
		Digest: desc.Digest, Size: desc.Size, Platform: desc.Platform,
	}
	for k, v := range desc.Annotations {
		if k != ocispec.AnnotationRefName {
			if d.Annotations == nil {
				d.Annotations = map[string]string{}
			}
			d.Annotations[k] = v
		}
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	e := &entry{desc: d}
	if err := json.Unmarshal(b, &e.fields); err != nil {
		return nil, err
	}
	if tag != "" {
		if err := e.setRefName(tag); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// readIndex reads and parses index.json.
func (l *Layout) readIndex() (*index, error) {
	path := filepath.Join(l.dir, indexFile)
	f, err := l.openInside(indexFile)
	if err != nil {
		return nil, fmt.Errorf("read OCI layout index: %w", err)
	}
	defer f.Close()
	b, err := content.ReadCapped(f, maxIndexSize, path)
	if err != nil {
		return nil, err
	}
	return parseIndex(path, b)
}

func parseIndex(path string, b []byte) (*index, error) {
	ix := &index{}
	if err := json.Unmarshal(b, &ix.fields); err != nil {
		return nil, fmt.Errorf("%s is not a JSON object: %v", path, err)
	}
	var raws []json.RawMessage
	if m, ok := ix.fields["manifests"]; ok && !bytes.Equal(m, []byte("null")) {
		if err := json.Unmarshal(m, &raws); err != nil {
			return nil, fmt.Errorf("%s: manifests is not a list of descriptors: %v", path, err)
		}
	}
	for i, raw := range raws {
		e := &entry{}
		if err := json.Unmarshal(raw, &e.fields); err != nil {
			return nil, fmt.Errorf("%s: manifests[%d] is not a descriptor: %v", path, i, err)
		}
		if err := json.Unmarshal(raw, &e.desc); err != nil {
			return nil, fmt.Errorf("%s: manifests[%d] is not a descriptor: %v", path, i, err)
		}
		if err := content.ValidateDescriptor(e.desc); err != nil {
			return nil, fmt.Errorf("%s: manifests[%d]: %w", path, i, err)
		}
		ix.entries = append(ix.entries, e)
	}
	return ix, nil
}

// Member order when writing: the usual order of the spec's examples first,
// anything else after in name order.
var (
	indexOrder = []string{"schemaVersion", "mediaType", "artifactType", "manifests", "subject", "annotations"}
	entryOrder = []string{"mediaType", "artifactType", "digest", "size", "urls", "platform", "data", "annotations"}
)

// marshal renders the index, with schemaVersion and mediaType filled in if
// the file lacked them.
func (ix *index) marshal() ([]byte, error) {
	fields := map[string]json.RawMessage{}
	for k, v := range ix.fields {
		fields[k] = v
	}
	if _, ok := fields["schemaVersion"]; !ok {
		fields["schemaVersion"] = json.RawMessage("2")
	}
	if _, ok := fields["mediaType"]; !ok {
		fields["mediaType"] = json.RawMessage(`"` + content.MediaTypeOCIIndex + `"`)
	}
	list := []json.RawMessage{}
	for _, e := range ix.entries {
		b, err := marshalOrdered(e.fields, entryOrder)
		if err != nil {
			return nil, err
		}
		list = append(list, b)
	}
	b, err := json.Marshal(list)
	if err != nil {
		return nil, err
	}
	fields["manifests"] = b
	return marshalOrdered(fields, indexOrder)
}

// marshalOrdered writes a JSON object with the members in order first.
func marshalOrdered(fields map[string]json.RawMessage, order []string) ([]byte, error) {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if !slices.Contains(order, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var buf bytes.Buffer
	buf.WriteByte('{')
	n := 0
	write := func(k string) error {
		v, ok := fields[k]
		if !ok {
			return nil
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		n++
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		return json.Compact(&buf, v)
	}
	for _, k := range append(slices.Clone(order), keys...) {
		if err := write(k); err != nil {
			return nil, fmt.Errorf("member %q: %w", k, err)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// updateIndex changes index.json with change, safely against other
// processes doing the same: under an flock of the oci-layout file it
// re-reads index.json, applies change, and if change reports a
// modification, replaces the file atomically.
func (l *Layout) updateIndex(ctx context.Context, change func(*index) (bool, error)) error {
	l.indexMu.Lock()
	defer l.indexMu.Unlock()
	lf, err := os.Open(filepath.Join(l.dir, layoutFile))
	if err != nil {
		return fmt.Errorf("lock OCI layout %s: %w", l.dir, err)
	}
	defer lf.Close() // releases the lock
	if err := lockWait(ctx, lf); err != nil {
		return fmt.Errorf("lock OCI layout %s: %w", l.dir, err)
	}
	ix, err := l.readIndex()
	if err != nil {
		return err
	}
	changed, err := change(ix)
	if err != nil || !changed {
		return err
	}
	b, err := ix.marshal()
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Join(l.dir, indexFile), err)
	}
	if err := writeFileAtomic(l.tmpDir(), filepath.Join(l.dir, indexFile), b); err != nil {
		return err
	}
	l.tidy()
	return nil
}
