package distribution

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	ggcr "github.com/google/go-containerregistry/pkg/registry"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/internal/testutil"
)

func TestReferrersTag(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sha256:" + strings.Repeat("a", 64), "sha256-" + strings.Repeat("a", 64)},
		{"sha512:" + strings.Repeat("a", 128), "sha512-" + strings.Repeat("a", 64)},
		{
			"test+algorithm+using+algorithm+separators+and+lots+of+characters+to+excercise+overall+truncation:alsoSome=InTheEncodedSectionToShowHyphenReplacementAndLotsAndLotsOfCharactersToExcerciseEncodedTruncation",
			"test-algorithm-using-algorithm-s-alsoSome-InTheEncodedSectionToShowHyphenReplacementAndLotsAndLot",
		},
	}
	for _, tt := range tests {
		if got := ReferrersTag(digest.Digest(tt.in)); got != tt.want {
			t.Errorf("ReferrersTag(%.20s…) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// artifact builds a manifest that refers to subject, typed by its config
// media type (which both the referrers API and the tag schema report when
// there is no artifactType field).
func artifact(t *testing.T, r *Repository, subject ocispec.Descriptor, artifactType, note string) ocispec.Descriptor {
	t.Helper()
	cfg := []byte("{}")
	cd := content.NewDescriptor(artifactType, cfg)
	if err := r.PushBlob(context.Background(), cd, bytes.NewReader(cfg)); err != nil {
		t.Fatal(err)
	}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: content.MediaTypeOCIManifest,
		Config: cd, Layers: []ocispec.Descriptor{}, Subject: &subject,
		Annotations: map[string]string{"org.example.note": note},
	}
	raw := mustJSON(t, m)
	d, err := r.PutManifest(context.Background(), content.NewDescriptor("", raw).Digest.String(), "", raw)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

const (
	sbomType = "application/vnd.example.sbom.v1"
	sigType  = "application/vnd.example.signature.v1"
)

func TestReferrers(t *testing.T) {
	tests := []struct {
		name      string
		host      func(t *testing.T) string
		fallback  bool
		deletable bool
	}{
		{
			name: "referrers API (go-containerregistry's registry)",
			host: func(t *testing.T) string {
				srv := httptest.NewServer(ggcr.New(ggcr.WithReferrersSupport(true), ggcr.Logger(log.New(io.Discard, "", 0))))
				t.Cleanup(srv.Close)
				return strings.TrimPrefix(srv.URL, "http://")
			},
		},
		{
			name:      "tag schema fallback (distribution, which lacks the API)",
			host:      func(t *testing.T) string { return testutil.NewRegistry(t).Host },
			fallback:  true,
			deletable: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			r := mustRepo(t, client(t, tt.host(t)), "signed/app")
			img := newImage(t, nil, 100)
			img.push(t, r, "v1")
			subject := img.desc

			none, err := r.Referrers(ctx, subject, "")
			if err != nil || len(none) != 0 {
				t.Fatalf("before any referrer: %v %v", none, err)
			}

			sbom := artifact(t, r, subject, sbomType, "the sbom")
			sig := artifact(t, r, subject, sigType, "the signature")
			// Pushing the same referrer again must not list it twice.
			artifact(t, r, subject, sbomType, "the sbom")

			all, err := r.Referrers(ctx, subject, "")
			if err != nil {
				t.Fatal(err)
			}
			got := map[digest.Digest]ocispec.Descriptor{}
			for _, d := range all {
				got[d.Digest] = d
			}
			if len(all) != 2 || got[sbom.Digest].ArtifactType != sbomType || got[sig.Digest].ArtifactType != sigType {
				t.Fatalf("referrers %+v, want the sbom and the signature once each", all)
			}
			if got[sig.Digest].Annotations["org.example.note"] != "the signature" {
				t.Errorf("annotations not carried: %+v", got[sig.Digest])
			}

			only, err := r.Referrers(ctx, subject, sigType)
			if err != nil || len(only) != 1 || only[0].Digest != sig.Digest {
				t.Fatalf("filtered by %s: %+v %v", sigType, only, err)
			}

			tags, err := r.Tags(ctx, ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			hasTag := slices.Contains(tags, ReferrersTag(subject.Digest))
			if hasTag != tt.fallback {
				t.Fatalf("tags %v: referrers tag present %v, want %v", tags, hasTag, tt.fallback)
			}
			if !tt.fallback {
				return
			}
			m, err := r.Manifest(ctx, ReferrersTag(subject.Digest))
			if err != nil || m.Kind != content.KindIndex || len(m.Index.Manifests) != 2 {
				t.Fatalf("referrers tag: %v %+v", err, m)
			}
			if !tt.deletable {
				return
			}
			if err := r.DeleteManifest(ctx, sbom.Digest.String()); err != nil {
				t.Fatal(err)
			}
			left, err := r.Referrers(ctx, subject, "")
			if err != nil || len(left) != 1 || left[0].Digest != sig.Digest {
				t.Fatalf("after deleting the sbom: %+v %v", left, err)
			}
		})
	}
}

// A referrers tag that holds something other than an index is not
// overwritten, and reading it reports no referrers.
func TestReferrersTagNotIndex(t *testing.T) {
	r, _ := repo(t, "odd")
	ctx := context.Background()
	img := newImage(t, nil, 10)
	img.push(t, r, "v1")
	squatter := newImage(t, nil, 11)
	squatter.push(t, r, ReferrersTag(img.desc.Digest))

	list, err := r.Referrers(ctx, img.desc, "")
	if err != nil || len(list) != 0 {
		t.Fatalf("%v %v", list, err)
	}
	cfg := content.NewDescriptor(sbomType, []byte("{}"))
	if err := r.PushBlob(ctx, cfg, bytes.NewReader([]byte("{}"))); err != nil {
		t.Fatal(err)
	}
	raw := mustJSON(t, ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: content.MediaTypeOCIManifest, Config: cfg, Layers: []ocispec.Descriptor{}, Subject: &img.desc})
	_, err = r.PutManifest(ctx, "sbom", "", raw)
	if err == nil || !strings.Contains(err.Error(), "was pushed") || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Fatalf("push with a squatted referrers tag: %v", err)
	}
	m, err := r.Manifest(ctx, ReferrersTag(img.desc.Digest))
	if err != nil || !bytes.Equal(m.Raw, squatter.manifest) {
		t.Fatalf("the squatted tag was changed: %v", err)
	}
}

// A registry with the referrers API answers 404 NAME_UNKNOWN for a
// repository it does not have; that must not make the client believe the
// registry lacks the API and start writing referrers tags elsewhere.
func TestReferrersUnknownRepositoryKeepsAPI(t *testing.T) {
	srv := httptest.NewServer(ggcr.New(ggcr.WithReferrersSupport(true), ggcr.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	reg := client(t, strings.TrimPrefix(srv.URL, "http://"))
	ctx := context.Background()
	if list, err := mustRepo(t, reg, "nowhere").Referrers(ctx, ocispec.Descriptor{Digest: digest.FromString("x")}, ""); err != nil || len(list) != 0 {
		t.Fatalf("%v %v", list, err)
	}
	r := mustRepo(t, reg, "somewhere")
	img := newImage(t, nil, 10)
	img.push(t, r, "v1")
	artifact(t, r, img.desc, sbomType, "x")
	tags, err := r.Tags(ctx, ListOptions{})
	if err != nil || slices.Contains(tags, ReferrersTag(img.desc.Digest)) {
		t.Fatalf("tags %v %v: a referrers tag was written on a registry with the API", tags, err)
	}
}
