package copy

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ggcr "github.com/google/go-containerregistry/pkg/registry"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/distribution"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/reference"
	"github.com/hoist-dev/hoist/store"
	"github.com/hoist-dev/hoist/store/ocilayout"
	"github.com/hoist-dev/hoist/store/remote"
)

const (
	sbomType = "application/vnd.example.sbom.v1+json"
	sigType  = "application/vnd.example.signature.v1"
)

// referrerStore is what these tests read and write: a store that lists
// referrers.
type referrerStore interface {
	store.Reader
	store.Writer
	store.ReferrerLister
}

// attach pushes an artifact referring to subject into w, and records it
// as a layout records roots; it returns the artifact's descriptor.
func attach(t *testing.T, w store.Writer, subject ocispec.Descriptor, artifactType, body string) ocispec.Descriptor {
	t.Helper()
	layer := content.NewDescriptor("text/plain", []byte(body))
	for _, b := range []struct {
		d   ocispec.Descriptor
		raw []byte
	}{{content.EmptyDescriptor(), content.EmptyJSON}, {layer, []byte(body)}} {
		if err := w.Push(ctx, b.d, bytes.NewReader(b.raw)); err != nil {
			t.Fatal(err)
		}
	}
	s := ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}
	raw, desc, err := content.NewArtifact(content.Artifact{ArtifactType: artifactType, Layers: []ocispec.Descriptor{layer}, Subject: &s,
		Annotations: map[string]string{"org.example.body": body}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Push(ctx, desc, bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	if err := w.Tag(ctx, desc, ""); err != nil {
		t.Fatal(err)
	}
	return desc
}

// signedLayout is a layout holding image v1 with an SBOM and a signature
// referring to it, and a signature of the SBOM.
type signedLayout struct {
	lay                   *ocilayout.Layout
	image                 ocispec.Descriptor
	sbom, sig, sbomSig    ocispec.Descriptor
	imageBlobs, artifacts int
}

func newSignedLayout(t *testing.T) signedLayout {
	t.Helper()
	lay, err := ocilayout.Create(ctx, filepath.Join(t.TempDir(), "src"))
	if err != nil {
		t.Fatal(err)
	}
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "referrers"})
	if _, err := New().Copy(ctx, img, "", lay, "v1"); err != nil {
		t.Fatal(err)
	}
	s := signedLayout{lay: lay, image: img.Root, imageBlobs: 3}
	s.sbom = attach(t, lay, img.Root, sbomType, "the sbom")
	s.sig = attach(t, lay, img.Root, sigType, "the image's signature")
	s.sbomSig = attach(t, lay, s.sbom, sigType, "the sbom's signature")
	return s
}

// registry starts a registry, with the referrers API (go-containerregistry's)
// or without it (distribution, which keeps to the tag schema), behind a
// proxy that logs requests, and returns the repository name as a store.
func registry(t *testing.T, api bool, name string) (*remote.Repository, *testutil.FaultProxy) {
	t.Helper()
	var target string
	if api {
		srv := httptest.NewServer(ggcr.New(ggcr.WithReferrersSupport(true), ggcr.Logger(log.New(io.Discard, "", 0))))
		t.Cleanup(srv.Close)
		target = srv.URL
	} else {
		target = testutil.NewRegistry(t).URL
	}
	proxy := testutil.NewFaultProxy(t, target)
	ref, err := reference.Parse(proxy.Host + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := remote.New(ref, http.DefaultClient, distribution.WithPlainHTTP())
	if err != nil {
		t.Fatal(err)
	}
	return r, proxy
}

// referrerDigests lists the digests of subject's referrers in s, sorted.
func referrerDigests(t *testing.T, s store.ReferrerLister, subject digest.Digest) []digest.Digest {
	t.Helper()
	list, err := s.Referrers(ctx, subject, "")
	if err != nil {
		t.Fatal(err)
	}
	var out []digest.Digest
	for _, d := range list {
		out = append(out, d.Digest)
	}
	slices.Sort(out)
	return out
}

func sortedDigests(ds ...ocispec.Descriptor) []digest.Digest {
	var out []digest.Digest
	for _, d := range ds {
		out = append(out, d.Digest)
	}
	slices.Sort(out)
	return out
}

// checkTree asserts that s holds the signed layout's tree of referrers.
func checkTree(t *testing.T, what string, s store.ReferrerLister, src signedLayout) {
	t.Helper()
	if got, want := referrerDigests(t, s, src.image.Digest), sortedDigests(src.sbom, src.sig); !slices.Equal(got, want) {
		t.Errorf("%s: referrers of the image %v, want %v", what, got, want)
	}
	if got, want := referrerDigests(t, s, src.sbom.Digest), sortedDigests(src.sbomSig); !slices.Equal(got, want) {
		t.Errorf("%s: referrers of the sbom %v, want %v", what, got, want)
	}
}

// A layout's referrers, two levels deep, go to a registry with the API,
// from there to one with the tag schema, and from there to a layout, with
// the same digests all the way; each referrer is written before the tag.
func TestCopyReferrersAcrossStores(t *testing.T) {
	src := newSignedLayout(t)
	checkTree(t, "the source layout", src.lay, src)

	withAPI, _ := registry(t, true, "mirror/app")
	res, err := New(WithReferrers()).Copy(ctx, src.lay, "v1", withAPI, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Referrers) != 3 || res.Descriptor.Digest != src.image.Digest {
		t.Fatalf("result lists %d referrers of %s, want 3 of %s", len(res.Referrers), res.Descriptor.Digest, src.image.Digest)
	}
	if res.Blobs != src.imageBlobs+4 { // the empty config, once, and three bodies
		t.Errorf("result counts %d blobs, want %d", res.Blobs, src.imageBlobs+4)
	}
	checkTree(t, "the registry with the referrers API", withAPI, src)

	tagSchema, proxy := registry(t, false, "mirror/app")
	if _, err := New(WithReferrers()).Copy(ctx, withAPI, "v1", tagSchema, "v1"); err != nil {
		t.Fatal(err)
	}
	checkTree(t, "the registry with the tag schema", tagSchema, src)
	tagPut, last := -1, -1
	for i, q := range proxy.Requests() {
		if q.Method != http.MethodPut || !strings.Contains(q.Path, "/manifests/") {
			continue
		}
		switch {
		case strings.HasSuffix(q.Path, "/manifests/v1"):
			tagPut = i
		case strings.Contains(q.Path, "/manifests/sha256"):
			last = i
		}
	}
	if tagPut < 0 || last > tagPut {
		t.Errorf("the tag was written (request %d) before the last referrer or referrers tag (request %d)", tagPut, last)
	}

	dstDir := filepath.Join(t.TempDir(), "dst")
	dst, err := ocilayout.Create(ctx, dstDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(WithReferrers()).Copy(ctx, tagSchema, "v1", dst, "v1"); err != nil {
		t.Fatal(err)
	}
	checkTree(t, "the layout at the end", dst, src)
	tags, err := dst.Tags(ctx, store.Page{})
	if err != nil || !slices.Equal(tags, []string{"v1"}) {
		t.Errorf("the layout's tags %v, %v: want only v1 (referrers are untagged roots)", tags, err)
	}
}

// A referrers tag on the target is merged with, not replaced by, what a
// copy adds; a type filter applies at every level; a copy without
// WithReferrers copies none.
func TestCopyReferrersMergeAndFilter(t *testing.T) {
	src := newSignedLayout(t)
	dst, _ := registry(t, false, "mirror/app")
	if _, err := New().Copy(ctx, src.lay, "v1", dst, "v1"); err != nil {
		t.Fatal(err)
	}
	if got := referrerDigests(t, dst, src.image.Digest); len(got) != 0 {
		t.Fatalf("a copy without WithReferrers wrote referrers %v", got)
	}
	res, err := New(WithReferrersCheck()).Copy(ctx, src.lay, "v1", dst, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sortedDigests(descriptors(res.ReferrersLeft)...), sortedDigests(src.sbom, src.sig); !slices.Equal(got, want) || len(res.Referrers) != 0 {
		t.Fatalf("WithReferrersCheck: left %v, copied %d; want the image's two referrers left, none copied", got, len(res.Referrers))
	}
	theirs := attach(t, dst, src.image, "application/vnd.example.other", "attached in the target")

	res, err = New(WithReferrers(sbomType), WithReferrersCheck()).Copy(ctx, src.lay, "v1", dst, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Referrers) != 1 || res.Referrers[0].Descriptor.Digest != src.sbom.Digest {
		t.Fatalf("WithReferrers(%s) copied %+v, want the sbom alone", sbomType, res.Referrers)
	}
	if got, want := referrerDigests(t, dst, src.image.Digest), sortedDigests(theirs, src.sbom); !slices.Equal(got, want) {
		t.Errorf("referrers tag after the copy lists %v, want the target's own and the sbom %v", got, want)
	}
	if got := referrerDigests(t, dst, src.sbom.Digest); len(got) != 0 {
		t.Errorf("the sbom's signature is not of the type asked for, but was copied: %v", got)
	}
}

// CopyAll with referrers copies each referrer once, and does not copy the
// source's referrers tags as tags: the target's keep their own entries.
func TestCopyAllReferrersOnce(t *testing.T) {
	src := newSignedLayout(t)
	if err := src.lay.Tag(ctx, src.image, "v2"); err != nil {
		t.Fatal(err)
	}
	tagSchema, _ := registry(t, false, "signed/app")
	if _, err := New(WithReferrers()).CopyAll(ctx, src.lay, tagSchema); err != nil {
		t.Fatal(err)
	}
	dst, proxy := registry(t, false, "mirror/app")
	theirs := attach(t, dst, src.image, "application/vnd.example.other", "attached in the target")
	results, err := New(WithReferrers()).CopyAll(ctx, tagSchema, dst)
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	copied := 0
	for _, r := range results {
		tags = append(tags, r.Tag)
		copied += len(r.Referrers)
	}
	if !slices.Equal(tags, []string{"v1", "v2"}) || copied != 3 {
		t.Fatalf("CopyAll results for tags %q with %d referrers; want v1 and v2, and 3 referrers in all", tags, copied)
	}
	puts := map[string]int{}
	for _, q := range proxy.Requests() {
		if q.Method == http.MethodPut && strings.Contains(q.Path, "/manifests/sha256:") {
			puts[q.Path]++
		}
	}
	for p, n := range puts {
		if n != 1 {
			t.Errorf("%s written %d times", p, n)
		}
	}
	if got, want := referrerDigests(t, dst, src.image.Digest), sortedDigests(theirs, src.sbom, src.sig); !slices.Equal(got, want) {
		t.Errorf("the target lists %v, want its own and the copied %v", got, want)
	}
}

// Cosign's legacy tags go with the image under their own names; a picked
// platform leaves the index's referrers behind, and says so.
func TestCopyCosignTagsAndLeftBehind(t *testing.T) {
	src := newSignedLayout(t)
	sig := content.NewDescriptor("application/vnd.dev.cosign.simplesigning.v1+json", []byte("cosign payload"))
	if err := src.lay.Push(ctx, sig, strings.NewReader("cosign payload")); err != nil {
		t.Fatal(err)
	}
	cfg := content.NewDescriptor(content.MediaTypeOCIConfig, []byte("{}"))
	if err := src.lay.Push(ctx, cfg, strings.NewReader("{}")); err != nil {
		t.Fatal(err)
	}
	raw := []byte(`{"schemaVersion":2,"mediaType":"` + content.MediaTypeOCIManifest + `","config":` + descJSON(t, cfg) + `,"layers":[` + descJSON(t, sig) + `]}`)
	sigManifest := content.NewDescriptor(content.MediaTypeOCIManifest, raw)
	if err := src.lay.Push(ctx, sigManifest, bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	cosignTag := content.CosignTags(src.image.Digest)[0]
	if err := src.lay.Tag(ctx, sigManifest, cosignTag); err != nil {
		t.Fatal(err)
	}
	dst, _ := registry(t, true, "mirror/app")
	res, err := New(WithCosignTags()).Copy(ctx, src.lay, "v1", dst, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Referrers) != 1 || res.Referrers[0].Tag != cosignTag {
		t.Fatalf("WithCosignTags copied %+v, want the one cosign tag", res.Referrers)
	}
	if d, err := dst.Resolve(ctx, cosignTag); err != nil || d.Digest != sigManifest.Digest {
		t.Fatalf("the target's %s: %v %v", cosignTag, d.Digest, err)
	}
	if got := referrerDigests(t, dst, src.image.Digest); len(got) != 0 {
		t.Errorf("WithCosignTags alone copied referrers %v", got)
	}

	// An index whose referrers cannot follow a single-platform pick.
	lay, err := ocilayout.Create(ctx, filepath.Join(t.TempDir(), "index"))
	if err != nil {
		t.Fatal(err)
	}
	img := testutil.NewImage(t, testutil.ImageSpec{Seed: "multi", Platforms: []string{"linux/amd64", "linux/arm64"}})
	if _, err := New().Copy(ctx, img, "", lay, "v1"); err != nil {
		t.Fatal(err)
	}
	ofIndex := attach(t, lay, img.Root, sigType, "the index's signature")
	ofImage := attach(t, lay, img.Manifests[1], sigType, "the arm64 image's signature")
	arm, err := content.ParsePlatform("linux/arm64")
	if err != nil {
		t.Fatal(err)
	}
	res, err = New(WithReferrers(), WithPlatforms(arm)).Copy(ctx, lay, "v1", dst, "arm64")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Referrers) != 1 || res.Referrers[0].Descriptor.Digest != ofImage.Digest {
		t.Errorf("copied %+v, want the arm64 image's signature", res.Referrers)
	}
	if len(res.ReferrersLeft) != 1 || res.ReferrersLeft[0].Descriptor.Digest != ofIndex.Digest {
		t.Errorf("left behind %+v, want the index's signature", res.ReferrersLeft)
	}
}

func descJSON(t *testing.T, d ocispec.Descriptor) string {
	t.Helper()
	b, err := json.Marshal(ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var _ referrerStore = (*ocilayout.Layout)(nil)

func descriptors(rs []Referrer) []ocispec.Descriptor {
	var out []ocispec.Descriptor
	for _, r := range rs {
		out = append(out, r.Descriptor)
	}
	return out
}

// A config whose descriptor embeds its bytes (an artifact's empty config)
// is taken from there, not fetched: the copy succeeds from a source that
// lost the blob.
func TestCopyInlineData(t *testing.T) {
	src := newSignedLayout(t)
	empty := content.EmptyDescriptor()
	if err := os.Remove(filepath.Join(src.lay.Dir(), "blobs", "sha256", empty.Digest.Encoded())); err != nil {
		t.Fatal(err)
	}
	dst, _ := registry(t, true, "mirror/app")
	if _, err := New(WithReferrers()).Copy(ctx, src.lay, "v1", dst, "v1"); err != nil {
		t.Fatalf("copy with the empty config only inline: %v", err)
	}
	if ok, err := dst.Exists(ctx, empty); err != nil || !ok {
		t.Fatalf("the target lacks the empty config: %v %v", ok, err)
	}
}
