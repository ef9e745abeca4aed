package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/store"
)

func newNS(t *testing.T, opts ...Option) *Namespace {
	t.Helper()
	ns, err := New(inmemory.New(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func repo(t *testing.T, ns *Namespace, name string) *Repository {
	t.Helper()
	r, err := ns.repository(name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func blobDesc(b []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(b), Size: int64(len(b))}
}

// image pushes a config and one layer to r and returns the manifest's
// descriptor and bytes (not pushed).
func image(t *testing.T, r *Repository, layer string, subject *ocispec.Descriptor) (ocispec.Descriptor, []byte) {
	t.Helper()
	ctx := context.Background()
	cfg := []byte(`{"architecture":"amd64","os":"linux"}`)
	l := []byte(layer)
	for _, b := range [][]byte{cfg, l} {
		if err := r.Push(ctx, blobDesc(b), bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	m := ocispec.Manifest{
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))},
		Layers:    []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(l), Size: int64(len(l))}},
		Subject:   subject,
	}
	m.SchemaVersion = 2
	raw, _ := json.Marshal(m)
	return content.NewDescriptor(ocispec.MediaTypeImageManifest, raw), raw
}

func TestPushTagResolveFetchDelete(t *testing.T) {
	ctx := context.Background()
	ns := newNS(t)
	r := repo(t, ns, "team/app")
	desc, raw := image(t, r, "layer one", nil)
	if err := r.PushTagged(ctx, desc, bytes.NewReader(raw), "v1"); err != nil {
		t.Fatal(err)
	}
	got, err := r.Resolve(ctx, "v1")
	if err != nil || got.Digest != desc.Digest || got.MediaType != desc.MediaType || got.Size != desc.Size {
		t.Fatalf("Resolve v1 = %+v, %v; want %+v", got, err, desc)
	}
	rc, err := r.Fetch(ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(b, raw) {
		t.Fatalf("Fetch = %q, %v", b, err)
	}
	names, err := ns.Repositories(ctx, store.Page{})
	if err != nil || len(names) != 1 || names[0] != "team/app" {
		t.Fatalf("Repositories = %v, %v", names, err)
	}
	if err := r.Delete(ctx, desc); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(ctx, "v1"); !errors.Is(err, errdef.ErrNotFound) {
		t.Fatalf("tag after manifest delete: %v, want not found", err)
	}
	if _, err := r.Resolve(ctx, desc.Digest.String()); !errors.Is(err, errdef.ErrNotFound) {
		t.Fatalf("manifest after delete: %v, want not found", err)
	}
}

func TestManifestChecks(t *testing.T) {
	ctx := context.Background()
	r := repo(t, newNS(t), "a")
	desc, raw := image(t, r, "x", nil)
	other := repo(t, r.ns, "b")
	var missing *MissingError
	if err := other.Push(ctx, desc, bytes.NewReader(raw)); !errors.As(err, &missing) || !errors.Is(err, errdef.ErrNotFound) {
		t.Fatalf("manifest whose blobs are in another repository: %v, want MissingError", err)
	}
	both := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a/b","digest":"` +
		desc.Digest.String() + `","size":1},"layers":[],"manifests":[]}`)
	if err := r.Push(ctx, content.NewDescriptor(ocispec.MediaTypeImageManifest, both), bytes.NewReader(both)); !errors.Is(err, errdef.ErrInvalid) {
		t.Fatalf("manifest with layers and manifests: %v, want ErrInvalid", err)
	}
	wrong := desc
	wrong.Digest = digest.FromString("something else")
	if err := r.Push(ctx, wrong, bytes.NewReader(raw)); !errors.Is(err, errdef.ErrDigestMismatch) {
		t.Fatalf("manifest under the wrong digest: %v, want digest mismatch", err)
	}
	sparse := newNS(t, WithAllowMissing(true))
	if err := repo(t, sparse, "b").Push(ctx, desc, bytes.NewReader(raw)); err != nil {
		t.Fatalf("WithAllowMissing: %v", err)
	}
	small := newNS(t, WithMaxManifestSize(16))
	if err := repo(t, small, "a").Push(ctx, desc, bytes.NewReader(raw)); !errors.Is(err, errdef.ErrTooLarge) {
		t.Fatalf("manifest over the cap: %v, want ErrTooLarge", err)
	}
}

// A second Namespace over the same storage (another server instance, or
// the same one restarted) continues an upload the first started, with and
// without the saved hash state; nothing is visible before the commit.
func TestUploadContinuesOnAnotherInstance(t *testing.T) {
	ctx := context.Background()
	for _, lostState := range []bool{false, true} {
		t.Run(fmt.Sprintf("lostHashState=%v", lostState), func(t *testing.T) {
			d := inmemory.New()
			a, _ := New(d)
			b, _ := New(d)
			data := bytes.Repeat([]byte("0123456789"), 1000)
			dg := digest.SHA512.FromBytes(data)
			in, err := repo(t, a, "up").Ingest(ctx, "", store.IngestOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ref := in.Ref()
			if _, err := in.Write(data[:4000]); err != nil {
				t.Fatal(err)
			}
			if err := in.Close(); err != nil {
				t.Fatal(err)
			}
			if lostState {
				_ = d.Delete(ctx, repo(t, a, "up").uploadDir(ref)+"/hash")
			}
			if ok, _ := repo(t, b, "up").Exists(ctx, ocispec.Descriptor{Digest: dg}); ok {
				t.Fatal("a partial upload is visible as a blob")
			}
			in2, err := repo(t, b, "up").Ingest(ctx, ref, store.IngestOptions{Resume: true})
			if err != nil {
				t.Fatal(err)
			}
			if in2.Offset() != 4000 {
				t.Fatalf("resumed at %d, want 4000", in2.Offset())
			}
			if _, err := in2.Write(data[4000:]); err != nil {
				t.Fatal(err)
			}
			got, err := in2.Commit(ctx, int64(len(data)), dg)
			if err != nil || got.Digest != dg || got.Size != int64(len(data)) {
				t.Fatalf("Commit = %+v, %v", got, err)
			}
			if ok, err := repo(t, a, "up").Exists(ctx, ocispec.Descriptor{Digest: dg}); !ok || err != nil {
				t.Fatalf("committed blob not visible to the first instance: %v %v", ok, err)
			}
		})
	}
	if _, err := repo(t, newNS(t), "up").Ingest(ctx, "0123456789abcdef0123456789abcdef", store.IngestOptions{Resume: true}); !errors.Is(err, errdef.ErrNotFound) {
		t.Fatalf("resuming an unknown upload: %v, want not found", err)
	}
}

func TestCommitMismatchDiscards(t *testing.T) {
	ctx := context.Background()
	r := repo(t, newNS(t), "m")
	in, _ := r.Ingest(ctx, "", store.IngestOptions{})
	_, _ = in.Write([]byte("abc"))
	if _, err := in.Commit(ctx, -1, digest.FromString("abd")); !errors.Is(err, errdef.ErrDigestMismatch) {
		t.Fatalf("Commit with the wrong digest: %v", err)
	}
	if _, err := r.Ingest(ctx, in.Ref(), store.IngestOptions{Resume: true}); !errors.Is(err, errdef.ErrNotFound) {
		t.Fatalf("upload still there after a mismatch: %v", err)
	}
	if ok, _ := r.Exists(ctx, ocispec.Descriptor{Digest: digest.FromString("abc")}); ok {
		t.Fatal("a blob that failed verification is visible")
	}
}

func TestTagsPagingAndReferrers(t *testing.T) {
	ctx := context.Background()
	r := repo(t, newNS(t), "p")
	desc, raw := image(t, r, "base", nil)
	for _, tag := range []string{"c", "a", "b"} {
		if err := r.PushTagged(ctx, desc, bytes.NewReader(raw), tag); err != nil {
			t.Fatal(err)
		}
	}
	if tags, _ := r.Tags(ctx, store.Page{Last: "a", N: 1}); strings.Join(tags, ",") != "b" {
		t.Fatalf("Tags after a, n=1 = %v", tags)
	}
	subj := desc
	sig, sigRaw := image(t, r, "signature", &subj)
	if err := r.Push(ctx, sig, bytes.NewReader(sigRaw)); err != nil {
		t.Fatal(err)
	}
	refs, err := r.Referrers(ctx, desc.Digest, "")
	if err != nil || len(refs) != 1 || refs[0].Digest != sig.Digest || refs[0].ArtifactType != ocispec.MediaTypeImageConfig {
		t.Fatalf("Referrers = %+v, %v", refs, err)
	}
	if refs, _ := r.Referrers(ctx, desc.Digest, "application/other"); len(refs) != 0 {
		t.Fatalf("Referrers filtered by another type = %+v", refs)
	}
	if err := r.Delete(ctx, sig); err != nil {
		t.Fatal(err)
	}
	if refs, _ := r.Referrers(ctx, desc.Digest, ""); len(refs) != 0 {
		t.Fatalf("Referrers after deleting the referrer = %+v", refs)
	}
}

func TestConcurrentSameBlobAndTag(t *testing.T) {
	ctx := context.Background()
	r := repo(t, newNS(t), "race")
	desc, raw := image(t, r, "shared", nil)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 8; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			b := []byte("same blob")
			errs <- r.Push(ctx, blobDesc(b), bytes.NewReader(b))
		}()
		go func() {
			defer wg.Done()
			errs <- r.PushTagged(ctx, desc, bytes.NewReader(raw), "latest")
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, err := r.Resolve(ctx, "latest"); err != nil || got.Digest != desc.Digest {
		t.Fatalf("latest = %v, %v", got, err)
	}
}

func TestGC(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	clock := func() time.Time { return now }
	d := inmemory.New()
	ns, _ := New(d, WithClock(clock))
	r := repo(t, ns, "gc")
	desc, raw := image(t, r, "kept layer", nil)
	if err := r.PushTagged(ctx, desc, bytes.NewReader(raw), "v1"); err != nil {
		t.Fatal(err)
	}
	orphan := []byte("nobody refers to me")
	if err := r.Push(ctx, blobDesc(orphan), bytes.NewReader(orphan)); err != nil {
		t.Fatal(err)
	}
	in, _ := r.Ingest(ctx, "", store.IngestOptions{})
	_, _ = in.Write([]byte("abandoned"))
	_ = in.Close()

	// Within the grace period nothing goes.
	rep, err := ns.GC(ctx, GCConfig{Grace: time.Hour})
	if err != nil || rep.BlobsRemoved != 0 || rep.UploadsRemoved != 0 {
		t.Fatalf("GC within grace: %+v, %v", rep, err)
	}
	now = now.Add(2 * time.Hour)
	rep, err = ns.GC(ctx, GCConfig{Grace: time.Hour})
	if err != nil || rep.BlobsRemoved != 1 || rep.UploadsRemoved != 1 || rep.Manifests != 1 {
		t.Fatalf("GC after grace: %+v, %v", rep, err)
	}
	if ok, _ := r.Exists(ctx, blobDesc(orphan)); ok {
		t.Fatal("orphan blob survived GC")
	}
	rc, err := r.Fetch(ctx, desc)
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	m, _ := content.Decode(desc.MediaType, raw)
	for _, c := range content.Children(m) {
		if ok, err := r.Exists(ctx, c.Descriptor); !ok || err != nil {
			t.Fatalf("GC removed referenced %s %s: %v", c.Role, c.Descriptor.Digest, err)
		}
	}
}
