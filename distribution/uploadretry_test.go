package distribution

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/internal/testutil"
)

var putUpload = testutil.MatchRequest(http.MethodPut, "/blobs/uploads/")

// methods lists the methods the proxy saw, in order.
func methods(p *testutil.FaultProxy) string {
	var out []string
	for _, rq := range p.Requests() {
		out = append(out, rq.Method)
	}
	return strings.Join(out, " ")
}

// The final PUT of an upload is sent again after a 429 (its Retry-After
// waited out), a 5xx or a reset, from a source that can be rewound.
func TestFinalPutRetried(t *testing.T) {
	for _, fk := range []testutil.FaultKind{testutil.Fault429, testutil.Fault503, testutil.FaultDrop} {
		t.Run(string(fk), func(t *testing.T) {
			r, _, _ := proxied(t, "put", []testutil.Fault{{Match: putUpload, Times: 1, Action: fk.Action("")}})
			blob := randomBytes(t, 50_000)
			desc := content.NewDescriptor("", blob)
			if err := r.PushBlob(context.Background(), desc, bytes.NewReader(blob)); err != nil {
				t.Fatalf("push after one %s on the final PUT: %v", fk, err)
			}
			if got := readBlob(t, r, desc); !bytes.Equal(got, blob) {
				t.Fatal("blob differs")
			}
		})
	}
}

// When the answer to the final PUT is lost, the registry may well have the
// blob: a HEAD says so, and the push succeeds without sending it again.
func TestFinalPutAnswerLost(t *testing.T) {
	r, p, _ := proxied(t, "lost", []testutil.Fault{{Match: putUpload, Times: 1, Action: testutil.LoseAnswer()}})
	blob := randomBytes(t, 50_000)
	desc := content.NewDescriptor("", blob)
	// A one-shot source: nothing could be sent again.
	if err := r.PushBlob(context.Background(), desc, bytes.NewBuffer(blob)); err != nil {
		t.Fatalf("push whose commit answer was lost: %v", err)
	}
	if got := methods(p); !strings.HasPrefix(got, "POST PUT HEAD") {
		t.Fatalf("requests %s, want POST PUT HEAD", got)
	}
}

// A commit answered 200 without a digest, by a front that never asked the
// registry, is not taken for success.
func TestCommitAnswerChecked(t *testing.T) {
	r, _, _ := proxied(t, "fake", []testutil.Fault{{Match: putUpload, Action: testutil.Respond(http.StatusOK, nil, "")}})
	blob := randomBytes(t, 1000)
	desc := content.NewDescriptor("", blob)
	err := r.PushBlob(context.Background(), desc, bytes.NewBuffer(blob))
	if err == nil || !strings.Contains(err.Error(), "the blob is not there") {
		t.Fatalf("push through a front that fakes the commit: %v", err)
	}
}

// capBodies answers 413, as nginx's client_max_body_size does, to upload
// requests whose body is longer than limit.
func capBodies(limit int64) testutil.Fault {
	return testutil.Fault{
		Match:  func(r *http.Request) bool { return testutil.IsUpload(r) && r.ContentLength > limit },
		Action: testutil.Respond(http.StatusRequestEntityTooLarge, http.Header{"Content-Type": {"text/html"}}, "<html><body><h1>413 Request Entity Too Large</h1></body></html>"),
	}
}

// A 413 on a monolithic upload switches to chunks under the cap, found by
// halving, and later uploads to the registry start with that chunk size.
func TestTooLargeSwitchesToChunks(t *testing.T) {
	const limit = 300_000
	r, p, _ := proxied(t, "capped", []testutil.Fault{capBodies(limit)})
	blob := randomBytes(t, 3_000_000)
	desc := content.NewDescriptor("", blob)
	if err := r.PushBlob(context.Background(), desc, bytes.NewReader(blob)); err != nil {
		t.Fatalf("push through a 300 kB body cap: %v", err)
	}
	if got := readBlob(t, r, desc); !bytes.Equal(got, blob) {
		t.Fatal("blob differs")
	}
	if c := r.reg.chunkSize(); c == 0 || c > limit {
		t.Fatalf("learned chunk size %d, want under %d", c, limit)
	}
	refused := 0
	for _, rq := range p.Requests() {
		if rq.Status == http.StatusRequestEntityTooLarge {
			refused++
		}
	}

	// The next blob, from a one-shot source, goes in chunks at once.
	blob2 := randomBytes(t, 1_000_000)
	desc2 := content.NewDescriptor("", blob2)
	if err := r.PushBlob(context.Background(), desc2, bytes.NewBuffer(blob2)); err != nil {
		t.Fatalf("second push: %v", err)
	}
	again := -refused
	for _, rq := range p.Requests() {
		if rq.Status == http.StatusRequestEntityTooLarge {
			again++
		}
	}
	if again != 0 {
		t.Fatalf("the second upload met %d more 413s; the cap was not remembered", again)
	}

	// An explicit chunk size is kept under the cap from the start.
	r3, p3, _ := proxied(t, "explicit", []testutil.Fault{capBodies(limit)}, WithMaxChunkSize(limit))
	if err := r3.PushBlob(context.Background(), desc, bytes.NewBuffer(blob)); err != nil {
		t.Fatal(err)
	}
	for _, rq := range p3.Requests() {
		if rq.Status == http.StatusRequestEntityTooLarge {
			t.Fatal("WithMaxChunkSize under the cap still met a 413")
		}
	}

	// A cap no chunk can get under fails with the registry's 413.
	r4, _, _ := proxied(t, "tiny", []testutil.Fault{capBodies(1000)})
	err := r4.PushBlob(context.Background(), desc2, bytes.NewReader(blob2))
	if !errors.Is(err, errcode.ErrTooLarge) || !strings.Contains(err.Error(), "WithMaxChunkSize") {
		t.Fatalf("push through a 1000-byte cap: %v, want ErrTooLarge naming WithMaxChunkSize", err)
	}
}

// A manifest PUT answered 200 without a digest, by a front that never
// asked the registry, is not taken for success either: it is sent once
// more, and then given up on.
func TestManifestPutAnswerChecked(t *testing.T) {
	putManifest := testutil.MatchRequest(http.MethodPut, "/manifests/")
	fake := testutil.Respond(http.StatusOK, nil, "")
	for _, times := range []int{1, 0} {
		r, _, srv := proxied(t, "fake", []testutil.Fault{{Match: putManifest, Times: times, Action: fake}})
		img := newImage(t, nil, 100)
		img.push(t, mustRepo(t, client(t, srv.Host), "fake"), img.desc.Digest.String())
		_, err := r.PutManifest(context.Background(), "v1", "", img.manifest)
		switch {
		case times == 1 && err != nil:
			t.Fatalf("manifest PUT after one faked answer: %v", err)
		case times == 0 && (err == nil || !strings.Contains(err.Error(), "does not have it")):
			t.Fatalf("manifest PUT through a front that always fakes it: %v", err)
		}
	}
}
