package content

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"

	"github.com/hoist-dev/hoist/errcode"
)

var (
	dConfig = digest.FromString("config")
	dLayer1 = digest.FromString("layer1")
	dLayer2 = digest.FromString("layer2")
	dChild  = digest.FromString("child")
)

func ociManifest(extra string) string {
	return fmt.Sprintf(`{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": %q, "size": 6},
  "layers": [
    {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": %q, "size": 6},
    {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": %q, "size": 6}
  ]%s
}`, dConfig, dLayer1, dLayer2, extra)
}

const ociIndex = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` +
	"0000000000000000000000000000000000000000000000000000000000000001" + `","size":10,"platform":{"os":"linux","architecture":"amd64"}},
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` +
	"0000000000000000000000000000000000000000000000000000000000000002" + `","size":10,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` +
	"0000000000000000000000000000000000000000000000000000000000000003" + `","size":10,"platform":{"os":"linux","architecture":"arm","variant":"v7"}}
]}`

func schema1(signed bool) (raw, payload []byte) {
	pretty := fmt.Sprintf(`{
   "schemaVersion": 1,
   "name": "library/old",
   "tag": "latest",
   "architecture": "amd64",
   "fsLayers": [{"blobSum": %q}, {"blobSum": %q}, {"blobSum": %q}],
   "history": [{"v1Compatibility": "{}"}, {"v1Compatibility": "{}"}, {"v1Compatibility": "{}"}]
}`, dLayer2, dLayer1, dLayer1)
	if !signed {
		return []byte(pretty), []byte(pretty)
	}
	fl := strings.LastIndex(pretty, "\n}")
	tail := pretty[fl:]
	prot := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"formatLength":%d,"formatTail":%q,"time":"2015-01-01T00:00:00Z"}`,
		fl, base64.RawURLEncoding.EncodeToString([]byte(tail)))))
	s := pretty[:fl] + `,
   "signatures": [{"header": {"alg": "ES256"}, "signature": "c2ln", "protected": "` + prot + `"}]` + tail
	return []byte(s), []byte(pretty)
}

func TestDecode(t *testing.T) {
	signed, _ := schema1(true)
	unsigned, _ := schema1(false)
	noMT := strings.Replace(ociManifest(""), `"mediaType": "application/vnd.oci.image.manifest.v1+json",`, "", 1)
	dockerMT := strings.Replace(ociManifest(""), "application/vnd.oci.image.manifest.v1+json", MediaTypeDockerManifest, 1)
	tests := []struct {
		name, ctype, raw string
		kind             Kind
		mediaType        string
		children         int
		wantErr          error // nil: must succeed; errAny: any error
	}{
		{name: "oci manifest", raw: ociManifest(""), kind: KindImage, mediaType: MediaTypeOCIManifest, children: 3},
		{name: "body beats header", ctype: MediaTypeDockerManifestList, raw: ociManifest(""), kind: KindImage, mediaType: MediaTypeOCIManifest, children: 3},
		{name: "docker schema 2", ctype: "application/json", raw: dockerMT, kind: KindImage, mediaType: MediaTypeDockerManifest, children: 3},
		{name: "no mediaType, header says", ctype: MediaTypeDockerManifest + "; charset=utf-8", raw: noMT, kind: KindImage, mediaType: MediaTypeDockerManifest, children: 3},
		{name: "no mediaType, no header: shape", ctype: "application/octet-stream", raw: noMT, kind: KindImage, mediaType: MediaTypeOCIManifest, children: 3},
		{name: "oci index", raw: ociIndex, kind: KindIndex, mediaType: MediaTypeOCIIndex, children: 3},
		{name: "subject is listed", raw: ociManifest(fmt.Sprintf(`, "subject": {"mediaType": %q, "digest": %q, "size": 5}`, MediaTypeOCIManifest, dChild)), kind: KindImage, mediaType: MediaTypeOCIManifest, children: 4},
		{name: "schema 1 unsigned", raw: string(unsigned), kind: KindLegacy, mediaType: MediaTypeDockerSchema1, children: 2},
		{name: "schema 1 signed by shape", raw: string(signed), kind: KindLegacy, mediaType: MediaTypeDockerSchema1Signed, children: 2},
		{name: "schema 1 signed by header", ctype: MediaTypeDockerSchema1Signed, raw: string(signed), kind: KindLegacy, mediaType: MediaTypeDockerSchema1Signed, children: 2},
		{name: "not json", raw: "<html>", wantErr: errAny},
		{name: "json array", raw: "[]", wantErr: errAny},
		{name: "unknown media type", raw: `{"schemaVersion":2,"mediaType":"application/vnd.oci.artifact.manifest.v1+json"}`, wantErr: errcode.ErrUnsupported},
		{name: "no clue", raw: `{"schemaVersion":2}`, wantErr: errcode.ErrUnsupported},
		{name: "schemaVersion 3", raw: strings.Replace(ociManifest(""), `"schemaVersion": 2`, `"schemaVersion": 3`, 1), wantErr: errAny},
		{name: "bad layer digest", raw: strings.Replace(ociManifest(""), dLayer1.String(), "sha256:xyz", 1), wantErr: errAny},
		{name: "negative size", raw: strings.Replace(ociManifest(""), `"size": 6}`, `"size": -6}`, 1), wantErr: errAny},
		{name: "index type over a manifest body", raw: strings.Replace(ociManifest(""), MediaTypeOCIManifest, MediaTypeOCIIndex, 1), wantErr: errAny},
		{name: "image with manifests", raw: ociManifest(`, "manifests": []`), wantErr: errAny},
		{name: "image with Manifests", ctype: MediaTypeOCIManifest, raw: ociManifest(`, "Manifests": [{}]`), wantErr: errAny},
		{name: "index with layers", raw: strings.Replace(ociIndex, `"manifests":[`, `"layers":[],"manifests":[`, 1), wantErr: errAny},
		{name: "index with config", ctype: MediaTypeOCIIndex, raw: `{"schemaVersion":2,"manifests":[],"config":{}}`, wantErr: errAny},
		{name: "schema 1 with layers", raw: strings.Replace(string(unsigned), `"fsLayers"`, `"layers": [], "fsLayers"`, 1), wantErr: errAny},
		{name: "null members of another kind", raw: ociManifest(`, "manifests": null, "fsLayers": null`), kind: KindImage, mediaType: MediaTypeOCIManifest, children: 3},
		{name: "image type over an index body", raw: strings.Replace(ociIndex, `"mediaType":"application/vnd.oci.image.index.v1+json"`, `"mediaType":"application/vnd.oci.image.manifest.v1+json"`, 1), wantErr: errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := []byte(tt.raw)
			m, err := Decode(tt.ctype, raw)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("decoded %+v, want an error", m.Descriptor)
				}
				if tt.wantErr != errAny && !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v does not wrap %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Kind != tt.kind || m.Descriptor.MediaType != tt.mediaType {
				t.Errorf("kind %v %q, want %v %q", m.Kind, m.Descriptor.MediaType, tt.kind, tt.mediaType)
			}
			if !bytes.Equal(m.Raw, raw) || m.Descriptor.Digest != digest.FromBytes(raw) || m.Descriptor.Size != int64(len(raw)) {
				t.Errorf("descriptor %+v does not describe the exact bytes", m.Descriptor)
			}
			if got := len(Children(m)); got != tt.children {
				t.Errorf("%d children, want %d: %+v", got, tt.children, Children(m))
			}
		})
	}
}

var errAny = errors.New("any error")

func TestVerifyLegacyPayloadDigest(t *testing.T) {
	raw, payload := schema1(true)
	m, err := Decode("", raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(digest.FromBytes(payload)); err != nil {
		t.Errorf("payload digest: %v", err)
	}
	if err := m.Verify(digest.FromBytes(raw)); err != nil {
		t.Errorf("whole-body digest: %v", err)
	}
	if err := m.Verify(digest.FromString("other")); !errors.Is(err, errcode.ErrDigestMismatch) {
		t.Errorf("other digest: %v", err)
	}
	if err := m.Verify(digest.SHA512.FromBytes(raw)); err != nil {
		t.Errorf("sha512 of the body: %v", err)
	}
}

func TestChildrenOrder(t *testing.T) {
	m, err := Decode("", []byte(ociManifest(fmt.Sprintf(`, "subject": {"mediaType": %q, "digest": %q, "size": 5}`, MediaTypeOCIManifest, dChild))))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range Children(m) {
		got = append(got, c.Role.String()+"="+c.Descriptor.Digest.String()[:12])
	}
	want := []string{"config=" + dConfig.String()[:12], "layer=" + dLayer1.String()[:12], "layer=" + dLayer2.String()[:12], "subject=" + dChild.String()[:12]}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("children %v, want %v", got, want)
	}
	raw, _ := schema1(false)
	m, _ = Decode("", raw)
	kids := Children(m)
	if len(kids) != 2 || kids[0].Descriptor.Digest != dLayer1 || kids[1].Descriptor.Digest != dLayer2 || kids[0].Descriptor.Size != -1 {
		t.Errorf("schema 1 children %+v, want layer1 then layer2, once each, size unknown", kids)
	}
}

func TestReadManifestCap(t *testing.T) {
	big := ociManifest(`, "annotations": {"pad": "` + strings.Repeat("x", 6<<20) + `"}`)
	_, err := ReadManifest(strings.NewReader(big), "", 0)
	if !errors.Is(err, errcode.ErrTooLarge) || !strings.Contains(err.Error(), "4 MiB") {
		t.Fatalf("6 MiB manifest: %v; want ErrTooLarge naming the 4 MiB limit", err)
	}
	if _, err := ReadManifest(strings.NewReader(big), "", 8<<20); err != nil {
		t.Fatalf("with an 8 MiB cap: %v", err)
	}
	exact := ociManifest("")
	if _, err := ReadManifest(strings.NewReader(exact), "", int64(len(exact))); err != nil {
		t.Fatalf("manifest exactly at the cap: %v", err)
	}
}

func TestArtifactType(t *testing.T) {
	m, _ := Decode("", []byte(ociManifest("")))
	if got := m.ArtifactType(); got != MediaTypeOCIConfig {
		t.Errorf("image without artifactType: %q, want the config media type", got)
	}
	m, _ = Decode("", []byte(ociManifest(`, "artifactType": "application/vnd.example.sbom"`)))
	if got := m.ArtifactType(); got != "application/vnd.example.sbom" || m.Descriptor.ArtifactType != got {
		t.Errorf("artifactType %q, descriptor %q", got, m.Descriptor.ArtifactType)
	}
	m, _ = Decode("", []byte(ociIndex))
	if got := m.ArtifactType(); got != "" {
		t.Errorf("index without artifactType: %q", got)
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{1000: "1000 B", 4 << 20: "4 MiB", 1536: "1.5 KiB", 1 << 30: "1 GiB"} {
		if got := HumanSize(n); got != want {
			t.Errorf("HumanSize(%d) = %q, want %q", n, got, want)
		}
	}
}
