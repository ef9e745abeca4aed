package registry

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/opencontainers/go-digest"

	"github.com/hoist-dev/hoist/server/storage"
)

// fuzzHandler is a handler over fresh in-memory storage holding one
// config and one layer in repository "f", so that fuzzed manifests can
// refer to blobs that exist.
func fuzzHandler(t testing.TB) (*Handler, [2]digest.Digest) {
	ns, err := storage.New(inmemory.New(), storage.WithMaxManifestSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(ns)
	if err != nil {
		t.Fatal(err)
	}
	var ds [2]digest.Digest
	for i, b := range []string{`{"architecture":"amd64","os":"linux"}`, "layer"} {
		ds[i] = digest.FromString(b)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/v2/f/blobs/uploads/?digest="+ds[i].String(), strings.NewReader(b)))
		if rec.Code != http.StatusCreated {
			t.Fatalf("seeding blob %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	return h, ds
}

// FuzzPutManifest PUTs arbitrary bodies and content types as manifests.
// The handler must never fail with a 5xx, and a manifest it accepts must
// read back byte for byte, under the digest it answered.
func FuzzPutManifest(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"CONFIG","size":37},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"LAYER","size":5}]}`), "application/vnd.oci.image.manifest.v1+json", "v1")
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"layers":[]}`), "application/vnd.oci.image.index.v1+json", "both")
	f.Add([]byte(`{"schemaVersion":2,"manifests":[]}`), "", "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
	f.Add([]byte(`not json`), "application/vnd.docker.distribution.manifest.v2+json", "latest")
	f.Fuzz(func(t *testing.T, body []byte, contentType, ref string) {
		h, ds := fuzzHandler(t)
		body = bytes.ReplaceAll(body, []byte("CONFIG"), []byte(ds[0]))
		body = bytes.ReplaceAll(body, []byte("LAYER"), []byte(ds[1]))
		if strings.ContainsAny(ref, "/?#% \x00") || ref == "" {
			ref = "fuzz"
		}
		req := httptest.NewRequest("PUT", "/v2/f/manifests/x", bytes.NewReader(body))
		req.URL.Path = "/v2/f/manifests/" + ref
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("PUT manifest %q: %d %s", ref, rec.Code, rec.Body)
		}
		if rec.Code != http.StatusCreated {
			return
		}
		dg := rec.Header().Get("Docker-Content-Digest")
		get := httptest.NewRecorder()
		h.ServeHTTP(get, httptest.NewRequest("GET", "/v2/f/manifests/"+dg, nil))
		if get.Code != http.StatusOK || !bytes.Equal(get.Body.Bytes(), body) {
			t.Fatalf("accepted manifest %s reads back as %d %q", dg, get.Code, get.Body)
		}
		if digest.Digest(dg).Algorithm().FromBytes(body) != digest.Digest(dg) {
			t.Fatalf("accepted under %s, which is not its digest", dg)
		}
	})
}

// FuzzUpload drives one upload with chunks whose data and Content-Range
// starts come from the fuzzer, then finishes it. No request may fail with
// a 5xx; the blob must exist afterwards exactly when the final PUT was
// answered 201, and then hold exactly the bytes accepted.
func FuzzUpload(f *testing.F) {
	f.Add([]byte("hello world"), uint8(5), uint16(0), uint16(5), true)
	f.Add([]byte("out of order chunks"), uint8(4), uint16(3), uint16(2), true)
	f.Add([]byte(""), uint8(1), uint16(0), uint16(0), false)
	f.Add(bytes.Repeat([]byte{0xff}, 300), uint8(100), uint16(0), uint16(100), true)
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8, skew, from uint16, withRange bool) {
		h, _ := fuzzHandler(t)
		do := func(method, url string, body []byte, hdr ...string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(method, url, bytes.NewReader(body))
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s: %d %s", method, url, rec.Code, rec.Body)
			}
			return rec
		}
		start := do("POST", "/v2/f/blobs/uploads/", nil)
		loc := start.Header().Get("Location")
		if start.Code != http.StatusAccepted || loc == "" {
			t.Fatalf("POST: %d", start.Code)
		}
		size := max(int(chunk), 1)
		var accepted []byte
		for off := int(from) % (len(data) + 1); off < len(data); off += size {
			end := min(off+size, len(data))
			var hdr []string
			if withRange {
				s := len(accepted) + int(skew)%3 - 1 // sometimes not where the upload stands
				hdr = []string{"Content-Range", fmt.Sprintf("%d-%d", max(s, 0), max(s, 0)+end-off-1)}
			}
			rec := do("PATCH", loc, data[off:end], hdr...)
			if rec.Code == http.StatusAccepted {
				accepted = append(accepted, data[off:end]...)
			}
		}
		status := do("GET", loc, nil)
		if status.Code != http.StatusNoContent {
			t.Fatalf("upload status: %d", status.Code)
		}
		dg := digest.FromBytes(accepted)
		fin := do("PUT", loc+"?digest="+dg.String(), nil)
		blob := do("GET", "/v2/f/blobs/"+dg.String(), nil)
		switch {
		case fin.Code == http.StatusCreated && (blob.Code != http.StatusOK || !bytes.Equal(blob.Body.Bytes(), accepted)):
			t.Fatalf("committed %s, but GET answers %d with %d bytes (accepted %d)", dg, blob.Code, blob.Body.Len(), len(accepted))
		case fin.Code != http.StatusCreated && blob.Code == http.StatusOK && len(accepted) > 0:
			body, _ := io.ReadAll(fin.Body)
			t.Fatalf("final PUT %d (%s), yet the blob is visible", fin.Code, body)
		}
	})
}
