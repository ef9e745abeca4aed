package distribution

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/internal/testutil"
)

// proxied starts a registry with a FaultProxy in front of it and returns a
// client repository that talks through the proxy.
func proxied(t *testing.T, name string, faults []testutil.Fault, opts ...Option) (*Repository, *testutil.FaultProxy, *testutil.Registry) {
	t.Helper()
	srv := testutil.NewRegistry(t)
	p := testutil.NewFaultProxy(t, srv.URL, faults...)
	return mustRepo(t, client(t, p.Host, opts...), name), p, srv
}

var getBlob = testutil.MatchRequest(http.MethodGet, "/blobs/sha256:")

// seed pushes blob straight to the registry, not through the proxy.
func seed(t *testing.T, srv *testutil.Registry, name string, blob []byte) {
	t.Helper()
	r := mustRepo(t, client(t, srv.Host), name)
	if err := r.PushBlob(context.Background(), content.NewDescriptor("", blob), bytes.NewReader(blob)); err != nil {
		t.Fatal(err)
	}
}

func blobGets(p *testutil.FaultProxy) (ranges []string, statuses []int) {
	for _, rq := range p.Requests() {
		if rq.Method == http.MethodGet && strings.Contains(rq.Path, "/blobs/sha256:") {
			ranges = append(ranges, rq.Range)
			statuses = append(statuses, rq.Status)
		}
	}
	return ranges, statuses
}

func TestBlobResumesAfterDrop(t *testing.T) {
	const size = 10_000_000
	r, p, srv := proxied(t, "resume", []testutil.Fault{
		// Every response is cut 3 MB in, twice: the download needs two
		// resumes, from 3 MB and from 6 MB.
		{Match: getBlob, Times: 2, Action: testutil.CutResponseAfter(3_000_000)},
	})
	blob := randomBytes(t, size)
	seed(t, srv, "resume", blob)
	desc := content.NewDescriptor("", blob)

	var out bytes.Buffer
	n, err := r.CopyBlob(context.Background(), desc, &out)
	if err != nil || n != size || !bytes.Equal(out.Bytes(), blob) {
		t.Fatalf("copied %d bytes, err %v, equal %v", n, err, bytes.Equal(out.Bytes(), blob))
	}
	ranges, statuses := blobGets(p)
	wantRanges := []string{"", "bytes=3000000-", "bytes=6000000-"}
	if fmt.Sprint(ranges) != fmt.Sprint(wantRanges) || fmt.Sprint(statuses) != "[200 206 206]" {
		t.Fatalf("GETs with Range %q answered %v; want %q answered [200 206 206]", ranges, statuses, wantRanges)
	}
}

func TestBlobServerIgnoresRange(t *testing.T) {
	r, p, srv := proxied(t, "norange", []testutil.Fault{
		{Match: func(r *http.Request) bool { return getBlob(r) && r.Header.Get("Range") == "" }, Times: 1, Action: testutil.CutResponseAfter(1_234_567)},
		{Match: getBlob, Action: testutil.IgnoreRange()},
	})
	blob := randomBytes(t, 4_000_000)
	seed(t, srv, "norange", blob)
	got := readBlob(t, r, content.NewDescriptor("", blob))
	if !bytes.Equal(got, blob) {
		t.Fatal("blob differs after restarting from a server that ignores Range")
	}
	ranges, statuses := blobGets(p)
	if fmt.Sprint(ranges) != "[ bytes=1234567-]" || fmt.Sprint(statuses) != "[200 200]" {
		t.Fatalf("GETs with Range %q answered %v", ranges, statuses)
	}
}

func TestBlobResumeBudget(t *testing.T) {
	r, p, srv := proxied(t, "budget", []testutil.Fault{
		{Match: getBlob, Action: testutil.CutResponseAfter(100_000)},
	}, WithMaxResumes(2))
	blob := randomBytes(t, 1_000_000)
	seed(t, srv, "budget", blob)
	rc, err := r.Blob(context.Background(), content.NewDescriptor("", blob))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	n, err := io.Copy(io.Discard, rc)
	if err == nil || !strings.Contains(err.Error(), "gave up after 2 resumes at byte 300000") {
		t.Fatalf("read %d bytes, err %v", n, err)
	}
	if _, again := rc.Read(make([]byte, 10)); again == nil || again == io.EOF {
		t.Fatalf("read after giving up: %v", again)
	}
	if ranges, _ := blobGets(p); len(ranges) != 3 {
		t.Fatalf("%d GETs, want 3", len(ranges))
	}
}

func TestBlobWrongDigest(t *testing.T) {
	r, _, srv := proxied(t, "corrupt", []testutil.Fault{
		{Match: getBlob, Action: testutil.CorruptResponseAt(5000)},
	})
	blob := randomBytes(t, 100_000)
	seed(t, srv, "corrupt", blob)
	desc := content.NewDescriptor("", blob)
	var out bytes.Buffer
	_, err := r.CopyBlob(context.Background(), desc, &out)
	if !errors.Is(err, errcode.ErrDigestMismatch) {
		t.Fatalf("corrupt blob: %v", err)
	}
	var me *content.MismatchError
	if !errors.As(err, &me) || me.Want.Digest != desc.Digest {
		t.Fatalf("error %v does not name the blob", err)
	}

	// The wrong size, declared up front, fails before any byte is read.
	short := desc
	short.Size--
	if _, err := r.Blob(context.Background(), short); !errors.Is(err, errcode.ErrSizeMismatch) {
		t.Fatalf("size differing from Content-Length: %v", err)
	}
}

// A push whose bytes do not match the descriptor fails with a digest error
// and leaves neither a blob nor an upload session behind.
func TestPushWrongDigestLeavesNothing(t *testing.T) {
	for _, chunk := range []int64{0, 40_000} {
		t.Run(fmt.Sprintf("max chunk %d", chunk), func(t *testing.T) {
			dir := t.TempDir()
			srv := testutil.NewRegistry(t, testutil.WithStorageDir(dir))
			r := mustRepo(t, client(t, srv.Host, WithMaxChunkSize(chunk)), "wrong")
			blob := randomBytes(t, 100_000)
			desc := content.NewDescriptor("", blob)
			bad := bytes.Clone(blob)
			bad[len(bad)-1] ^= 1
			err := r.PushBlob(context.Background(), desc, bytes.NewReader(bad))
			if !errors.Is(err, errcode.ErrDigestMismatch) {
				t.Fatalf("push of wrong bytes: %v", err)
			}
			if _, err := r.BlobHead(context.Background(), desc.Digest); !errors.Is(err, errcode.ErrNotFound) {
				t.Fatalf("blob exists after a failed push: %v", err)
			}
			if left := uploadLeftovers(t, dir); len(left) > 0 {
				t.Fatalf("upload data left behind: %v", left)
			}
			// Too short fails with a size error. The request has to be cut
			// off mid-body then, and distribution may still be writing it
			// when the cancel arrives, so only the blob's absence is certain.
			err = r.PushBlob(context.Background(), desc, bytes.NewReader(blob[:50_000]))
			if !errors.Is(err, errcode.ErrSizeMismatch) {
				t.Fatalf("push of too few bytes: %v", err)
			}
			if _, err := r.BlobHead(context.Background(), desc.Digest); !errors.Is(err, errcode.ErrNotFound) {
				t.Fatalf("blob exists after a short push: %v", err)
			}
		})
	}
}

// uploadLeftovers lists the files of upload sessions under a registry's
// storage directory. Distribution itself rewrites a hash state file when it
// closes a cancelled session (its purger collects those); any other file,
// the data or the session's start time, means a session is still there.
func uploadLeftovers(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	dir := filepath.Join(root, "docker/registry/v2/repositories")
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.Contains(p, "/_uploads/") && !strings.Contains(p, "/hashstates/") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

func TestManifestTooLarge(t *testing.T) {
	pad := strings.Repeat("x", 6<<20)
	big := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"digest":"%s","size":2},"layers":[],"annotations":{"pad":%q}}`,
		content.MediaTypeOCIManifest, content.MediaTypeOCIConfig, content.NewDescriptor("", []byte("{}")).Digest, pad))
	for _, declared := range []bool{true, false} {
		t.Run(fmt.Sprintf("Content-Length sent: %v", declared), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", content.MediaTypeOCIManifest)
				if declared {
					w.Header().Set("Content-Length", fmt.Sprint(len(big)))
				}
				w.Write(big)
			}))
			defer srv.Close()
			host := strings.TrimPrefix(srv.URL, "http://")
			_, err := mustRepo(t, client(t, host), "big").Manifest(context.Background(), "v1")
			if !errors.Is(err, errcode.ErrTooLarge) || !strings.Contains(err.Error(), "4 MiB") || !strings.Contains(err.Error(), "WithMaxManifestSize") {
				t.Fatalf("6 MiB manifest: %v", err)
			}
			m, err := mustRepo(t, client(t, host, WithMaxManifestSize(8<<20)), "big").Manifest(context.Background(), "v1")
			if err != nil || !bytes.Equal(m.Raw, big) {
				t.Fatalf("with an 8 MiB cap: %v", err)
			}
		})
	}
}

func TestRegistryErrors(t *testing.T) {
	tests := []struct {
		name     string
		action   testutil.FaultAction
		is       error
		status   int
		retry    time.Duration
		contains []string
	}{
		{
			name: "429 with Retry-After",
			action: testutil.Respond(429, http.Header{"Retry-After": {"1"}, "Content-Type": {"application/json"}},
				`{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}`),
			is: errcode.ErrRateLimited, status: 429, retry: time.Second,
			contains: []string{"TOOMANYREQUESTS: You have reached your pull rate limit.", "wait 1s"},
		},
		{
			name:   "500",
			action: testutil.Respond(500, http.Header{"Content-Type": {"text/plain"}}, "upstream storage unavailable\n"),
			is:     errcode.ErrServer, status: 500,
			contains: []string{`500 Internal Server Error: "upstream storage unavailable"`},
		},
		{
			name: "HTML 403 from nginx",
			action: testutil.Respond(403, http.Header{"Content-Type": {"text/html"}},
				"<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"),
			is: errcode.ErrDenied, status: 403,
			contains: []string{`403 Forbidden: "403 Forbidden nginx"`},
		},
		{
			name:   "401 names the login command",
			action: testutil.Respond(401, http.Header{"WWW-Authenticate": {`Basic realm="r"`}}, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`),
			is:     errcode.ErrUnauthorized, status: 401,
			contains: []string{"hoist login 127.0.0.1:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, _ := proxied(t, "errs", []testutil.Fault{{Action: tt.action}})
			_, err := r.Manifest(context.Background(), "v1")
			if !errors.Is(err, tt.is) {
				t.Fatalf("err %v, want %v", err, tt.is)
			}
			var ee *errcode.Error
			if !errors.As(err, &ee) || ee.Status != tt.status || ee.RetryAfter != tt.retry || ee.Method != "GET" || !strings.HasSuffix(ee.URL, "/v2/errs/manifests/v1") {
				t.Fatalf("error %#v", err)
			}
			for _, c := range tt.contains {
				if !strings.Contains(err.Error(), c) {
					t.Errorf("%q lacks %q", err, c)
				}
			}
		})
	}
}

// Locations without scheme and host, as some registries send, are
// resolved against the registry.
func TestRelativeLocations(t *testing.T) {
	for _, chunk := range []int64{0, 10_000} {
		t.Run(fmt.Sprintf("max chunk %d", chunk), func(t *testing.T) {
			r, p, _ := proxied(t, "rel", []testutil.Fault{{Action: testutil.RelativeLocation()}}, WithMaxChunkSize(chunk))
			blob := randomBytes(t, 25_000)
			desc := content.NewDescriptor("", blob)
			if err := r.PushBlob(context.Background(), desc, bytes.NewReader(blob)); err != nil {
				t.Fatal(err)
			}
			if got := readBlob(t, r, desc); !bytes.Equal(got, blob) {
				t.Fatal("blob differs")
			}
			if chunk > 0 {
				u, err := r.StartUpload(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(u.Location(), "http://"+p.Host+"/v2/rel/blobs/uploads/") {
					t.Fatalf("location %s not resolved against the registry", u.Location())
				}
				u.Cancel(context.Background())
			}
		})
	}
}

// A PATCH whose connection drops after the registry took part of it is
// continued from the offset the registry reports, when the source can seek.
func TestChunkedUploadResumes(t *testing.T) {
	var patches atomic.Int32
	second := func(r *http.Request) bool {
		return r.Method == http.MethodPatch && patches.Add(1) == 2
	}
	r, p, _ := proxied(t, "resumable", []testutil.Fault{
		{Match: second, Times: 1, Action: testutil.CutRequestAfter(12_345)},
	}, WithMaxChunkSize(50_000))
	blob := randomBytes(t, 180_000)
	desc := content.NewDescriptor("", blob)
	if err := r.PushBlob(context.Background(), desc, bytes.NewReader(blob)); err != nil {
		t.Fatal(err)
	}
	if got := readBlob(t, r, desc); !bytes.Equal(got, blob) {
		t.Fatal("blob differs")
	}
	var trace []string
	for _, rq := range p.Requests() {
		trace = append(trace, rq.Method)
	}
	want := "POST PATCH PATCH GET PATCH PATCH PATCH PUT"
	if got := strings.Join(trace, " "); !strings.HasPrefix(got, want) {
		t.Fatalf("requests %s, want %s …", got, want)
	}

	t.Run("not seekable: fails and cancels", func(t *testing.T) {
		patches.Store(0)
		r, _, _ := proxied(t, "oneshot", []testutil.Fault{
			{Match: second, Times: 1, Action: testutil.CutRequestAfter(100)},
		}, WithMaxChunkSize(50_000))
		err := r.PushBlob(context.Background(), desc, io.MultiReader(bytes.NewReader(blob)))
		if err == nil {
			t.Fatal("push from a one-shot reader survived a dropped PATCH")
		}
		if _, err := r.BlobHead(context.Background(), desc.Digest); !errors.Is(err, errcode.ErrNotFound) {
			t.Fatalf("blob exists: %v", err)
		}
	})
}

// A single-PUT upload whose connection drops is finished from where the
// registry stands, when the source can seek.
func TestMonolithicUploadResumes(t *testing.T) {
	r, p, _ := proxied(t, "mono", []testutil.Fault{
		{Match: testutil.MatchRequest(http.MethodPut, "/blobs/uploads/"), Times: 1, Action: testutil.DropConnection()},
	})
	blob := randomBytes(t, 70_000)
	desc := content.NewDescriptor("", blob)
	if err := r.PushBlob(context.Background(), desc, bytes.NewReader(blob)); err != nil {
		t.Fatal(err)
	}
	if got := readBlob(t, r, desc); !bytes.Equal(got, blob) {
		t.Fatal("blob differs")
	}
	var trace []string
	for _, rq := range p.Requests() {
		trace = append(trace, rq.Method)
	}
	if got := strings.Join(trace, " "); !strings.HasPrefix(got, "POST PUT GET PATCH PUT") {
		t.Fatalf("requests %s", got)
	}
}

// A digest from a registry that differs from the bytes it sent is caught.
func TestManifestDigestHeaderChecked(t *testing.T) {
	img := newImage(t, nil, 10)
	other := content.NewDescriptor("", []byte("other")).Digest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", content.MediaTypeOCIManifest)
		w.Header().Set("Docker-Content-Digest", other.String())
		w.Write(img.manifest)
	}))
	defer srv.Close()
	r := mustRepo(t, client(t, strings.TrimPrefix(srv.URL, "http://")), "lying")
	if _, err := r.Manifest(context.Background(), "v1"); !errors.Is(err, errcode.ErrDigestMismatch) {
		t.Fatalf("by tag with a wrong header: %v", err)
	}
	if _, err := r.Manifest(context.Background(), other.String()); !errors.Is(err, errcode.ErrDigestMismatch) {
		t.Fatalf("by a digest the bytes do not have: %v", err)
	}
	if _, err := r.PutManifest(context.Background(), "v1", "", img.manifest); !errors.Is(err, errcode.ErrDigestMismatch) {
		t.Fatalf("PUT answered with another digest: %v", err)
	}
}
