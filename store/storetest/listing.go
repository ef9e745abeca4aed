package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errdef"
	"github.com/hoist-dev/hoist/store"
)

// Tags list in lexical order, and page.
func testTags(t *testing.T, s Store) {
	w := s.New(t)
	img := newImage("tags", 100)
	pushImage(t, w, img, s.tag())
	want := []string{s.tag()}
	for _, tag := range []string{"b", "a", "c-1", "c.2"} {
		if err := w.Tag(ctx, img.manifest.desc, tag); err != nil {
			t.Fatal(err)
		}
		want = append(want, tag)
	}
	slices.Sort(want)
	r := s.read(t, w)
	tl, ok := r.(store.TagLister)
	if !ok {
		t.Skipf("%T is not a store.TagLister", r)
	}
	for _, tc := range []struct {
		p    store.Page
		want []string
	}{
		{store.Page{}, want},
		{store.Page{N: 2}, want[:2]},
		{store.Page{Last: want[1]}, want[2:]},
		{store.Page{Last: want[1], N: 1}, want[2:3]},
		{store.Page{Last: want[len(want)-1]}, nil},
	} {
		got, err := tl.Tags(ctx, tc.p)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Tags(%+v) = %q, %v; want %q", tc.p, got, err, tc.want)
		}
	}
}

// Stat describes a blob by digest alone.
func testStat(t *testing.T, s Store) {
	w := s.New(t)
	img := newImage("stat", 12345)
	pushImage(t, w, img, s.tag())
	r := s.read(t, w)
	st, ok := statter(w, r)
	if !ok {
		t.Skipf("%T is not a store.Statter", w)
	}
	for _, b := range img.blobs() {
		got, err := st.Stat(ctx, b.desc.Digest)
		if err != nil || got.Digest != b.desc.Digest || got.Size != b.desc.Size {
			t.Errorf("Stat(%s) = %+v, %v; want its size %d", b.desc.Digest, got, err, b.desc.Size)
		}
	}
}

// Delete removes a manifest with its tags, and a blob; deleting either
// again, or what never was, matches store.ErrNotFound.
func testDelete(t *testing.T, s Store) {
	w := s.New(t)
	d, ok := w.(store.Deleter)
	if !ok {
		t.Skipf("%T is not a store.Deleter", w)
	}
	gone, kept := newImage("deleted", 1000), newImage("kept", 2000)
	pushImage(t, w, gone, "gone")
	if err := w.Tag(ctx, gone.manifest.desc, "gone-too"); err != nil {
		t.Fatal(err)
	}
	pushImage(t, w, kept, s.tag())
	if err := d.Delete(ctx, gone.manifest.desc); err != nil {
		t.Fatalf("delete %s: %v", gone.manifest.desc.Digest, err)
	}
	if err := d.Delete(ctx, gone.manifest.desc); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting it again: %v, want an error matching store.ErrNotFound", err)
	}
	loose := newBlob(content.MediaTypeOCILayerGzip, randomBytes("loose blob", 3000))
	push(t, w, loose)
	blobDeleted := true
	if err := d.Delete(ctx, loose.desc); errors.Is(err, errdef.ErrUnsupported) {
		t.Logf("%T keeps blobs: %v", w, err)
		blobDeleted = false
	} else if err != nil {
		t.Fatalf("delete blob %s: %v", loose.desc.Digest, err)
	}
	r := s.read(t, w)
	for _, ref := range []string{s.name("gone"), s.name("gone-too"), gone.manifest.desc.Digest.String()} {
		if _, err := r.Resolve(ctx, ref); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("resolve %s after the delete: %v, want an error matching store.ErrNotFound", ref, err)
		}
	}
	if blobDeleted {
		absent(t, r, loose.desc)
	}
	checkImage(t, r, kept, s.name(s.tag()))
}

// Untag removes one tag and keeps the manifest, by digest and under its
// other tags.
func testUntag(t *testing.T, s Store) {
	w := s.New(t)
	u, ok := w.(store.Untagger)
	if !ok {
		t.Skipf("%T is not a store.Untagger", w)
	}
	img := newImage("untag", 1000)
	pushImage(t, w, img, s.tag())
	if err := w.Tag(ctx, img.manifest.desc, "dropped"); err != nil {
		t.Fatal(err)
	}
	err := u.Untag(ctx, "dropped")
	if errors.Is(err, errdef.ErrUnsupported) {
		t.Logf("%T cannot untag, as its contract allows: %v", w, err)
		return
	}
	if err != nil {
		t.Fatalf("untag: %v", err)
	}
	if err := u.Untag(ctx, "dropped"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("untagging it again: %v, want an error matching store.ErrNotFound", err)
	}
	r := s.read(t, w)
	if _, err := r.Resolve(ctx, s.name("dropped")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("resolve of the removed tag: %v, want an error matching store.ErrNotFound", err)
	}
	checkImage(t, r, img, s.name(s.tag()))
	if got, err := r.Resolve(ctx, img.manifest.desc.Digest.String()); err != nil || got.Digest != img.manifest.desc.Digest {
		t.Errorf("resolve by digest after the untag: %v, %v", got.Digest, err)
	}
}

// Referrers lists the manifests whose subject is a manifest, filtered by
// artifact type, with their artifact type and annotations.
func testReferrers(t *testing.T, s Store) {
	if s.ImagesOnly {
		t.Skip("the store holds images only, no artifacts")
	}
	w := s.New(t)
	img := newImage("subject", 1000)
	pushImage(t, w, img, s.tag())
	sbom := newArtifact("sbom", "application/vnd.example.sbom", img.manifest.desc)
	sig := newArtifact("signature", "application/vnd.example.signature", img.manifest.desc)
	for _, a := range []image{sbom, sig} {
		for _, b := range a.blobs() {
			push(t, w, b)
		}
		push(t, w, a.manifest)
	}
	r := s.read(t, w)
	rl, ok := r.(store.ReferrerLister)
	if !ok {
		t.Skipf("%T is not a store.ReferrerLister", r)
	}
	all, err := rl.Referrers(ctx, img.manifest.desc.Digest, "")
	if err != nil || len(all) != 2 {
		t.Fatalf("Referrers = %d descriptors, %v; want 2", len(all), err)
	}
	only, err := rl.Referrers(ctx, img.manifest.desc.Digest, "application/vnd.example.sbom")
	if err != nil || len(only) != 1 || only[0].Digest != sbom.manifest.desc.Digest {
		t.Fatalf("Referrers of the sbom type = %+v, %v", only, err)
	}
	if only[0].ArtifactType != "application/vnd.example.sbom" || only[0].Annotations["storetest"] != "sbom" {
		t.Errorf("the referrer lacks its artifact type or annotations: %+v", only[0])
	}
	none, err := rl.Referrers(ctx, sbom.layers[0].desc.Digest, "")
	if err != nil || len(none) != 0 {
		t.Errorf("Referrers of a digest nothing refers to = %v, %v; want an empty list", none, err)
	}
}

// Repositories lists the repositories that hold images, in lexical
// order, paged; an invalid name is refused.
func testRepositories(t *testing.T, s Store) {
	if s.Namespace == nil {
		t.Skip("the store is no store.Namespace")
	}
	ns := s.Namespace(t)
	want := []string{"storetest/a", "storetest/b", "storetest/c/d"}
	for i, name := range []string{want[2], want[0], want[1]} {
		r, err := ns.Repository(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		pushImage(t, r, newImage(fmt.Sprint("repository ", i), 100), "v1")
	}
	for _, tc := range []struct {
		p    store.Page
		want []string
	}{
		{store.Page{}, want},
		{store.Page{N: 2}, want[:2]},
		{store.Page{Last: want[0]}, want[1:]},
	} {
		got, err := ns.Repositories(ctx, tc.p)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Repositories(%+v) = %q, %v; want %q", tc.p, got, err, tc.want)
		}
	}
	if _, err := ns.Repository(ctx, "Not A Name"); !errors.Is(err, errdef.ErrInvalid) {
		t.Errorf("an invalid repository name: %v, want an error matching errdef.ErrInvalid", err)
	}
	r, _ := ns.Repository(ctx, want[0])
	if _, err := r.Resolve(ctx, ""); !errors.Is(err, errdef.ErrInvalid) {
		t.Errorf("Resolve(\"\") in a repository of a namespace: %v, want an error matching errdef.ErrInvalid", err)
	}
}
