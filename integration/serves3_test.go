//go:build integration

package integration

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/internal/testutil/s3test"
)

// s3Instance is one hoist serve process on a SeaweedFS bucket.
type s3Instance struct {
	host string
	cmd  *exec.Cmd
}

// s3Args are the flags that put hoist serve (or hoist serve gc) on srv,
// under prefix, with the credentials in a shared credentials file.
func s3Args(t *testing.T, srv *s3test.S3Server, prefix string) []string {
	t.Helper()
	creds := filepath.Join(t.TempDir(), "credentials")
	ini := fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", srv.AccessKey, srv.SecretKey)
	if err := os.WriteFile(creds, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--storage", "s3", "--s3-endpoint", srv.Endpoint, "--s3-bucket", srv.Bucket, "--s3-prefix", prefix, "--s3-credentials", creds}
}

// startS3Instances starts n hoist serve instances on one bucket prefix.
func startS3Instances(t *testing.T, srv *s3test.S3Server, prefix string, n int, extra ...string) []s3Instance {
	t.Helper()
	var out []s3Instance
	for range n {
		port := testutil.FreePort(t)
		host := "127.0.0.1:" + strconv.Itoa(port)
		args := append([]string{"serve", "--addr", host, "--access-log", ""}, s3Args(t, srv, prefix)...)
		cmd := testutil.StartProcess(t, port, hoistBin, append(args, extra...)...)
		out = append(out, s3Instance{host: host, cmd: cmd})
	}
	return out
}

// conformance runs the distribution-spec suite, every area and optional
// test on, against host; it returns the report and whether it ran clean.
func conformance(t *testing.T, host, name string, sparse bool) string {
	t.Helper()
	tools, err := os.ReadFile("../.ci/tools")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^CONF_VERSION=(\S+)$`).FindSubmatch(tools)
	if m == nil {
		t.Fatal("no CONF_VERSION in .ci/tools")
	}
	suite := testutil.NeedBinary(t, "oci-conformance-"+string(m[1]), "run .ci/tools")
	results := filepath.Join("..", "build", "conformance-s3", name)
	if err := os.MkdirAll(results, 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"OCI_REGISTRY=" + host, "OCI_TLS=disabled", "OCI_RESULTS_DIR=" + results, "OCI_LOG=error", "OCI_VERSION=1.1"}
	for _, k := range strings.Fields(`API_PULL API_PUSH API_BLOBS_ATOMIC API_BLOBS_DELETE API_BLOBS_MOUNT_ANONYMOUS
		API_BLOBS_UPLOAD_CANCEL API_MANIFESTS_ATOMIC API_MANIFESTS_DELETE API_MANIFESTS_TAG_PARAM API_TAGS_ATOMIC
		API_TAGS_DELETE API_TAGS_LIST API_REFERRER DATA_IMAGE DATA_INDEX DATA_INDEX_LIST DATA_ARTIFACT DATA_SUBJECT
		DATA_SUBJECT_MISSING DATA_ARTIFACT_LIST DATA_SUBJECT_LIST DATA_DATA_FIELD DATA_NONDISTRIBUTABLE
		DATA_CUSTOM_FIELDS DATA_NO_LAYERS DATA_EMPTY_BLOB DATA_SHA512`) {
		env = append(env, "OCI_"+k+"=true")
	}
	// hoist refuses sparse manifests unless started with --allow-missing.
	env = append(env, "OCI_DATA_SPARSE="+strconv.FormatBool(sparse))
	cmd := exec.Command(suite)
	cmd.Env = append(os.Environ(), env...)
	out, _ := cmd.CombinedOutput()
	report := string(out)
	os.WriteFile(filepath.Join(results, "report.txt"), out, 0o644)
	i := strings.Index(report, "OCI Conformance Result")
	if i < 0 {
		t.Fatalf("%s: the suite printed no result:\n%s", name, report)
	}
	summary := strings.Join(strings.Fields(report[i:min(len(report), i+400)]), " ")
	t.Logf("conformance %s: %s", name, summary)
	if regexp.MustCompile(`(?m)^ +(FAIL|Skip|Error)\.+: +[1-9]`).MatchString(report) {
		t.Errorf("conformance %s has failures or skips (report in %s):\n%s", name, results, report)
	}
	return report
}

// TestServeS3Conformance: the whole suite against one instance on
// SeaweedFS (as shipped: the sparse test off), then against two instances
// on one bucket (with --allow-missing: every test on, sparse included)
// behind a proxy that alternates every request between them.
func TestServeS3Conformance(t *testing.T) {
	srv := s3test.StartSeaweed(t, "conformance")
	one := startS3Instances(t, srv, "one", 1)
	conformance(t, one[0].host, "hoist-s3", false)
	two := startS3Instances(t, srv, "two", 2, "--allow-missing")
	rr := testutil.StartRoundRobin(t, two[0].host, two[1].host)
	conformance(t, rr.Host, "hoist-s3-pair", true)
	served := map[int]int{}
	for _, r := range rr.Records() {
		served[r.Backend]++
	}
	t.Logf("requests per instance behind the proxy: %v", served)
	if served[0] == 0 || served[1] == 0 {
		t.Errorf("the proxy did not spread requests over both instances: %v", served)
	}
}

// do sends one request and returns the answer's status, headers and body.
func do(t *testing.T, method, url string, hdr map[string]string, body []byte) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		req.Body = http.NoBody
	}
	req.ContentLength = int64(len(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	return resp.StatusCode, resp.Header, string(b)
}

// TestServeS3ChunkedAcrossInstances: a chunked upload of S3-sized chunks
// goes to alternate instances, chunk by chunk, and the blob is exact; an
// upload whose hash state is lost (a crash between sending its bytes and
// saving the state) is answered 404 BLOB_UPLOAD_UNKNOWN, its multipart
// upload is cancelled, and the client's fresh upload succeeds.
func TestServeS3ChunkedAcrossInstances(t *testing.T) {
	srv := s3test.StartSeaweed(t, "chunked")
	in := startS3Instances(t, srv, "", 2)
	blob := make([]byte, 13<<20) // parts of 10 MiB: a boundary falls inside the second chunk
	rand.Read(blob)
	d := digest.FromBytes(blob)
	status, hd, body := do(t, "POST", "http://"+in[0].host+"/v2/app/blobs/uploads/", nil, nil)
	if status != 202 || hd.Get("OCI-Chunk-Min-Length") != strconv.Itoa(5<<20) {
		t.Fatalf("POST: %d, OCI-Chunk-Min-Length %q: %s", status, hd.Get("OCI-Chunk-Min-Length"), body)
	}
	loc := hd.Get("Location")
	chunks := [][2]int{{0, 6 << 20}, {6 << 20, 12 << 20}, {12 << 20, len(blob)}}
	for i, c := range chunks {
		host := in[i%2].host
		status, hd, body = do(t, "PATCH", "http://"+host+loc, map[string]string{"Content-Range": fmt.Sprintf("%d-%d", c[0], c[1]-1), "Content-Type": "application/octet-stream"}, blob[c[0]:c[1]])
		if status != 202 || hd.Get("Range") != fmt.Sprintf("0-%d", c[1]-1) {
			t.Fatalf("PATCH %d on instance %d: %d Range %q: %s", i, i%2, status, hd.Get("Range"), body)
		}
		// The status, asked of the other instance, agrees.
		if st, h2, _ := do(t, "GET", "http://"+in[(i+1)%2].host+loc, nil, nil); st != 204 || h2.Get("Range") != hd.Get("Range") {
			t.Fatalf("GET status on instance %d after chunk %d: %d %q", (i+1)%2, i, st, h2.Get("Range"))
		}
	}
	status, _, body = do(t, "PUT", "http://"+in[1].host+loc+"?digest="+d.String(), nil, nil)
	if status != 201 {
		t.Fatalf("PUT: %d %s", status, body)
	}
	status, _, body = do(t, "GET", "http://"+in[0].host+"/v2/app/blobs/"+d.String(), nil, nil)
	if status != 200 || digest.FromString(body) != d {
		t.Fatalf("GET blob: %d, %d bytes, digest %s", status, len(body), digest.FromString(body))
	}

	// The lost hash state.
	status, hd, _ = do(t, "POST", "http://"+in[0].host+"/v2/app/blobs/uploads/", nil, nil)
	loc = hd.Get("Location")
	if status, _, body = do(t, "PATCH", "http://"+in[0].host+loc, map[string]string{"Content-Range": fmt.Sprintf("0-%d", 6<<20-1)}, blob[:6<<20]); status != 202 {
		t.Fatalf("PATCH: %d %s", status, body)
	}
	id := loc[strings.LastIndex(loc, "/")+1:]
	upload := "hoist/repositories/app/_uploads/" + id + "/"
	states := 0
	for _, k := range srv.Keys(t, upload+"hash/") {
		srv.Delete(t, k)
		states++
	}
	if states == 0 || len(srv.MultipartUploads(t, upload)) != 1 {
		t.Fatalf("the upload should hold a hash state and a multipart upload: %d states, multipart %v", states, srv.MultipartUploads(t, upload))
	}
	status, _, body = do(t, "GET", "http://"+in[1].host+loc, nil, nil)
	if status != 404 || !strings.Contains(body, "BLOB_UPLOAD_UNKNOWN") || !strings.Contains(body, "start the upload again") {
		t.Fatalf("status of an upload whose state is lost: %d %s, want 404 BLOB_UPLOAD_UNKNOWN", status, body)
	}
	if status, _, _ = do(t, "PATCH", "http://"+in[0].host+loc, map[string]string{"Content-Range": fmt.Sprintf("%d-%d", 6<<20, 12<<20-1)}, blob[6<<20:12<<20]); status != 404 {
		t.Fatalf("PATCH of the lost upload: %d, want 404", status)
	}
	if mp := srv.MultipartUploads(t, upload); len(mp) != 0 || len(srv.Keys(t, upload)) != 0 {
		t.Fatalf("the lost upload left %v and multipart uploads %v", srv.Keys(t, upload), mp)
	}
	// The client starts again: a monolithic upload of the same bytes.
	status, hd, _ = do(t, "POST", "http://"+in[1].host+"/v2/app/blobs/uploads/", nil, nil)
	if status, _, body = do(t, "PUT", "http://"+in[1].host+hd.Get("Location")+"?digest="+d.String(), nil, blob); status != 201 {
		t.Fatalf("the fresh upload: %d %s", status, body)
	}
	// With --s3-redirect a blob GET is sent to S3 itself, presigned.
	red := startS3Instances(t, srv, "", 1, "--s3-redirect")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get("http://" + red[0].host + "/v2/app/blobs/" + d.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || !strings.HasPrefix(resp.Header.Get("Location"), srv.Endpoint+"/") {
		t.Fatalf("GET blob with --s3-redirect: %d Location %q, want 307 to %s", resp.StatusCode, resp.Header.Get("Location"), srv.Endpoint)
	}
	status, _, body = do(t, "GET", resp.Header.Get("Location"), nil, nil)
	if status != 200 || digest.FromString(body) != d {
		t.Fatalf("GET of the presigned URL: %d, digest %s", status, digest.FromString(body))
	}
	// Committed uploads leave nothing behind.
	if left := srv.Keys(t, "hoist/repositories/app/_uploads/"); len(left) != 0 {
		t.Errorf("committed uploads left %v", left)
	}
	if mp := srv.MultipartUploads(t, ""); len(mp) != 0 {
		t.Errorf("committed uploads left multipart uploads %v", mp)
	}
}
