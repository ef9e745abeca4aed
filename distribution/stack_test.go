package distribution

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/content"
	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/hosts"
	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/transport"
)

// These tests run the client over hoist's own transport, which owns
// retries, Retry-After and stall detection, to show the layers fit.

// recordingClock records the waits the transport asks for instead of
// sleeping through them.
type recordingClock struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (c *recordingClock) Now() time.Time { return time.Now() }

func (c *recordingClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *recordingClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

func hoistTransport(t *testing.T, opts ...transport.Option) *transport.Transport {
	t.Helper()
	base := []transport.Option{transport.WithHosts(&hosts.Config{CertsDirs: []string{}})}
	tr := transport.New(append(base, opts...)...)
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

func TestOverTransportRetries(t *testing.T) {
	getManifest := testutil.MatchRequest(http.MethodGet, "/manifests/")
	tests := []struct {
		name   string
		fault  testutil.FaultAction
		waits  []time.Duration // exact, or nil to check only the count
		nwaits int
	}{
		{
			name:   "429 with Retry-After 1 is honoured",
			fault:  testutil.Respond(429, http.Header{"Retry-After": {"1"}}, `{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}`),
			waits:  []time.Duration{time.Second},
			nwaits: 1,
		},
		{
			name:   "500 then 200 is retried",
			fault:  testutil.Respond(500, nil, "boom"),
			nwaits: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testutil.NewRegistry(t)
			img := newImage(t, nil, 100)
			img.push(t, mustRepo(t, client(t, srv.Host), "app"), "v1")
			p := testutil.NewFaultProxy(t, srv.URL, testutil.Fault{Match: getManifest, Times: 1, Action: tt.fault})
			clock := &recordingClock{}
			r := mustRepo(t, client(t, p.Host, WithTransport(hoistTransport(t, transport.WithClock(clock)))), "app")
			m, err := r.Manifest(context.Background(), "v1")
			if err != nil || !bytes.Equal(m.Raw, img.manifest) {
				t.Fatalf("manifest through a failing proxy: %v", err)
			}
			waits := clock.Waits()
			if len(waits) != tt.nwaits || (tt.waits != nil && waits[0] != tt.waits[0]) {
				t.Fatalf("transport waited %v", waits)
			}
		})
	}

	t.Run("a Retry-After too long to wait is the caller's", func(t *testing.T) {
		srv := testutil.NewRegistry(t)
		p := testutil.NewFaultProxy(t, srv.URL, testutil.Fault{Match: getManifest, Action: testutil.Respond(429, http.Header{"Retry-After": {"3600"}}, "")})
		clock := &recordingClock{}
		r := mustRepo(t, client(t, p.Host, WithTransport(hoistTransport(t, transport.WithClock(clock)))), "app")
		_, err := r.Manifest(context.Background(), "v1")
		var ee *errcode.Error
		if !errors.Is(err, errcode.ErrRateLimited) || !errors.As(err, &ee) || ee.RetryAfter != time.Hour {
			t.Fatalf("err %v", err)
		}
		if w := clock.Waits(); len(w) != 0 {
			t.Fatalf("transport waited %v", w)
		}
	})
}

// A body that stops moving is cut by the transport's stall timeout; the
// blob reader resumes from the byte reached.
func TestOverTransportStallResumes(t *testing.T) {
	blob := randomBytes(t, 2_000_000)
	desc := content.NewDescriptor("", blob)
	var calls atomic.Int32
	var ranges sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		ranges.Store(n, r.Header.Get("Range"))
		if n == 1 {
			w.Header().Set("Content-Length", "2000000")
			w.WriteHeader(http.StatusOK)
			w.Write(blob[:700_000])
			http.NewResponseController(w).Flush()
			<-r.Context().Done() // stall until the client gives up
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(blob))
	}))
	defer srv.Close()
	tr := hoistTransport(t, transport.WithStallTimeout(200*time.Millisecond))
	r := mustRepo(t, client(t, strings.TrimPrefix(srv.URL, "http://"), WithTransport(tr)), "stall")
	if got := readBlob(t, r, desc); !bytes.Equal(got, blob) {
		t.Fatal("blob differs")
	}
	if calls.Load() != 2 {
		t.Fatalf("%d requests, want 2", calls.Load())
	}
	if rg, _ := ranges.Load(int32(2)); rg != "bytes=700000-" {
		t.Fatalf("resume asked for %q", rg)
	}
}
