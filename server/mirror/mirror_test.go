package mirror

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/server/storage"
	"github.com/hoist-dev/hoist/store"
)

// fixture is an upstream registry storage, a mirror of it, and a switch
// that makes the upstream unreachable.
type fixture struct {
	up     *storage.Namespace
	local  *storage.Namespace
	mirror *Namespace
	down   atomic.Bool
	now    atomic.Int64
}

func newFixture(t *testing.T, ttl time.Duration) *fixture {
	t.Helper()
	f := &fixture{}
	f.now.Store(time.Now().UnixNano())
	var err error
	if f.up, err = storage.New(inmemory.New()); err != nil {
		t.Fatal(err)
	}
	if f.local, err = storage.New(inmemory.New(), storage.WithAllowMissing(true)); err != nil {
		t.Fatal(err)
	}
	up := func(ctx context.Context, name string) (store.Reader, error) {
		if f.down.Load() {
			return nil, errors.New("dial tcp 127.0.0.1:1: connection refused")
		}
		return f.up.Repository(ctx, name)
	}
	f.mirror, err = New(f.local, up, WithTTL(ttl), WithUpstreamName("upstream.test"),
		WithClock(func() time.Time { return time.Unix(0, f.now.Load()) }))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) advance(d time.Duration) { f.now.Add(int64(d)) }

// push stores an image of one layer upstream under tag and returns its
// manifest descriptor and the layer.
func (f *fixture) push(t *testing.T, name, tag, layer string) (ocispec.Descriptor, ocispec.Descriptor) {
	t.Helper()
	ctx := context.Background()
	r, err := f.up.Repository(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	cfg := []byte(`{"architecture":"amd64","os":"linux"}`)
	desc := func(mt string, b []byte) ocispec.Descriptor {
		return ocispec.Descriptor{MediaType: mt, Digest: digest.FromBytes(b), Size: int64(len(b))}
	}
	cd, ld := desc(ocispec.MediaTypeImageConfig, cfg), desc(ocispec.MediaTypeImageLayer, []byte(layer))
	for _, b := range []struct {
		d ocispec.Descriptor
		b []byte
	}{{cd, cfg}, {ld, []byte(layer)}} {
		if err := r.Push(ctx, b.d, bytes.NewReader(b.b)); err != nil {
			t.Fatal(err)
		}
	}
	raw, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: cd, Layers: []ocispec.Descriptor{ld}})
	md := desc(ocispec.MediaTypeImageManifest, raw)
	if err := r.PushTagged(ctx, md, bytes.NewReader(raw), tag); err != nil {
		t.Fatal(err)
	}
	return md, ld
}

func pull(t *testing.T, ns store.Namespace, name, tag string) (ocispec.Descriptor, []byte, error) {
	t.Helper()
	ctx := context.Background()
	r, err := ns.Repository(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	md, err := r.Resolve(ctx, tag)
	if err != nil {
		return md, nil, err
	}
	rc, err := r.Fetch(ctx, md)
	if err != nil {
		return md, nil, err
	}
	raw, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return md, nil, err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	var layer []byte
	for _, d := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
		st, err := r.Stat(ctx, d.Digest)
		if err != nil {
			return md, nil, err
		}
		rc, err := r.FetchFrom(ctx, st, 0)
		if err != nil {
			return md, nil, err
		}
		layer, err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return md, nil, err
		}
		if digest.FromBytes(layer) != d.Digest {
			t.Fatalf("blob %s came back as %s", d.Digest, digest.FromBytes(layer))
		}
	}
	return md, layer, nil
}

func TestMirrorServesAndKeepsServingWhenUpstreamIsDown(t *testing.T) {
	f := newFixture(t, time.Minute)
	md, _ := f.push(t, "library/app", "v1", "layer one")
	got, layer, err := pull(t, f.mirror, "library/app", "v1")
	if err != nil || got.Digest != md.Digest || string(layer) != "layer one" {
		t.Fatalf("pull through the mirror: %v %v %q", err, got.Digest, layer)
	}
	f.down.Store(true)
	f.advance(time.Hour) // the tag is stale, and the upstream cannot be asked
	got, layer, err = pull(t, f.mirror, "library/app", "v1")
	if err != nil || got.Digest != md.Digest || string(layer) != "layer one" {
		t.Fatalf("pull with the upstream down: %v %v %q", err, got.Digest, layer)
	}
	// What was never pulled cannot be served, and the error names the upstream.
	_, _, err = pull(t, f.mirror, "library/other", "v1")
	var ue *UpstreamError
	if !errors.As(err, &ue) || !errors.Is(err, errdef.ErrServer) || ue.Upstream != "upstream.test" {
		t.Fatalf("pull of something never stored with the upstream down: %v", err)
	}
}

func TestMirrorSeesMovedTagAfterTTL(t *testing.T) {
	f := newFixture(t, time.Minute)
	first, _ := f.push(t, "app", "latest", "one")
	if got, _, err := pull(t, f.mirror, "app", "latest"); err != nil || got.Digest != first.Digest {
		t.Fatalf("first pull: %v %v", got.Digest, err)
	}
	second, _ := f.push(t, "app", "latest", "two")
	f.advance(30 * time.Second)
	if got, _, err := pull(t, f.mirror, "app", "latest"); err != nil || got.Digest != first.Digest {
		t.Fatalf("within the TTL the stored tag is served: %v %v", got.Digest, err)
	}
	f.advance(31 * time.Second)
	got, layer, err := pull(t, f.mirror, "app", "latest")
	if err != nil || got.Digest != second.Digest || string(layer) != "two" {
		t.Fatalf("after the TTL the moved tag is seen: %v %v %q", got.Digest, err, layer)
	}
}

func TestMirrorRefusesCorruptedUpstreamBlob(t *testing.T) {
	f := newFixture(t, time.Minute)
	_, ld := f.push(t, "app", "v1", "the real layer")
	// The upstream's storage now holds other bytes under the layer's digest.
	h := ld.Digest.Encoded()
	if err := f.up.Driver().PutContent(context.Background(), "/hoist/blobs/sha256/"+h[:2]+"/"+h+"/data", []byte("the evil layer")); err != nil {
		t.Fatal(err)
	}
	_, _, err := pull(t, f.mirror, "app", "v1")
	if !errors.Is(err, errdef.ErrServer) {
		t.Fatalf("pull of a corrupted blob: %v, want an upstream error", err)
	}
	r, _ := f.local.Repository(context.Background(), "app")
	if ok, err := r.Exists(context.Background(), ld); ok || err != nil {
		t.Fatalf("the corrupted blob was stored (exists %v, %v)", ok, err)
	}
}

func TestMirrorRefusesWrites(t *testing.T) {
	f := newFixture(t, time.Minute)
	ctx := context.Background()
	r, _ := f.mirror.Repository(ctx, "app")
	b := []byte("x")
	d := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(b), Size: 1}
	checks := map[string]error{"push": r.Push(ctx, d, bytes.NewReader(b)), "tag": r.Tag(ctx, d, "t"), "delete": r.Delete(ctx, d), "untag": r.Untag(ctx, "t")}
	_, checks["ingest"] = r.Ingest(ctx, "", store.IngestOptions{})
	_, checks["mount"] = r.Mount(ctx, d, "other")
	for what, err := range checks {
		if !errors.Is(err, errdef.ErrReadOnly) {
			t.Errorf("%s: %v, want read-only", what, err)
		}
	}
}
