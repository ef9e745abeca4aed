package legacy

import (
	"bytes"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/internal/testutil"
	"github.com/hoist-dev/hoist/transport"
)

// A layer download cut in the middle completes with a Range request.
func TestLayerResumesAfterCut(t *testing.T) {
	rec := &recorder{}
	_, ts := v1Server(t, rec.wrap)
	chain := testChain(t)
	seed(t, ts.URL, "foo42/bar", "latest", chain)
	proxy := testutil.NewFaultProxy(t, ts.URL, testutil.Fault{
		Match:  testutil.MatchRequest(http.MethodGet, "/layer"),
		Times:  1,
		Action: testutil.CutResponseAfter(60),
	})
	got := pullAll(t, newTestClient(t, proxy.Host), "foo42/bar", "latest")
	sameImages(t, got, chain)

	// The first layer GET was cut after 60 bytes; the next asked for the
	// rest.
	var ranges []string
	for _, r := range rec.find(http.MethodGet, baseID+"/layer") {
		ranges = append(ranges, r.rng)
	}
	if !slices.Equal(ranges, []string{"", "bytes=60-"}) {
		t.Fatalf("layer requests with Range %q, want a whole one then bytes=60-", ranges)
	}
}

// A download that stalls (no byte for the stall timeout) ends with a
// *transport.StallError, and is resumed like a broken one.
func TestLayerResumesAfterStall(t *testing.T) {
	var once sync.Once
	var ranges []string
	var mu sync.Mutex
	_, ts := v1Server(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/layer") {
				h.ServeHTTP(w, r)
				return
			}
			mu.Lock()
			ranges = append(ranges, r.Header.Get("Range"))
			mu.Unlock()
			stall := false
			once.Do(func() { stall = true })
			if !stall {
				h.ServeHTTP(w, r)
				return
			}
			// Send part of the layer, then nothing until the client gives up.
			h.ServeHTTP(&stallWriter{ResponseWriter: w, after: 50, done: r.Context().Done()}, r)
		})
	})
	chain := testChain(t)
	seed(t, ts.URL, "foo42/bar", "latest", chain)

	c, err := NewClient(hostOf(ts), WithTransport(testTransport(t, transport.WithStallTimeout(200*time.Millisecond))))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readLayer(t, c, baseID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, chain[0].layer) {
		t.Fatal("resumed layer differs")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ranges) != 2 || ranges[0] != "" || ranges[1] != "bytes=50-" {
		t.Fatalf("layer requests with Range %q, want the stalled one then bytes=50-", ranges)
	}
}

// stallWriter writes the first after bytes of the body, flushes them, and
// then blocks until done.
type stallWriter struct {
	http.ResponseWriter
	after   int
	written int
	done    <-chan struct{}
}

func (s *stallWriter) Write(p []byte) (int, error) {
	if s.written+len(p) <= s.after {
		s.written += len(p)
		return s.ResponseWriter.Write(p)
	}
	n, _ := s.ResponseWriter.Write(p[:s.after-s.written])
	s.written += n
	http.NewResponseController(s.ResponseWriter).Flush()
	<-s.done
	return n, errors.New("stalled on purpose")
}

func TestLayerResumeLimits(t *testing.T) {
	tests := []struct {
		name     string
		times    int // cuts, 0 for every request
		cut      int64
		noRanges bool // the server does not advertise Accept-Ranges
		opts     []Option
		wantErr  string
		wantGets int
	}{
		// A 152-byte layer cut every 10 bytes needs more than 5 resumes.
		{"every attempt cut: gives up after 5 resumes", 0, 10, false, nil, "gave up after 5 resumes at byte 60", 6},
		{"WithMaxResumes(2)", 0, 10, false, []Option{WithMaxResumes(2)}, "gave up after 2 resumes at byte 30", 3},
		{"WithMaxResumes(0) does not resume", 1, 60, false, []Option{WithMaxResumes(0)}, "broken at byte 60", 1},
		{"no Accept-Ranges: no resume", 1, 60, true, nil, "broken at byte 60", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ts := v1Server(t, nil)
			seed(t, ts.URL, "foo42/bar", "latest", testChain(t))
			action := testutil.CutResponseAfter(tt.cut)
			if tt.noRanges {
				action = func(w http.ResponseWriter, r *http.Request, forward http.Handler) {
					testutil.CutResponseAfter(tt.cut)(&noRanges{ResponseWriter: w}, r, forward)
				}
			}
			proxy := testutil.NewFaultProxy(t, ts.URL, testutil.Fault{
				Match: testutil.MatchRequest(http.MethodGet, "/layer"), Times: tt.times, Action: action,
			})
			_, err := readLayer(t, newTestClient(t, proxy.Host, tt.opts...), baseID)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			gets := 0
			for _, r := range proxy.Requests() {
				if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/layer") {
					gets++
				}
			}
			if gets != tt.wantGets {
				t.Errorf("%d layer requests, want %d", gets, tt.wantGets)
			}
		})
	}
}

// noRanges drops Accept-Ranges from an answer.
type noRanges struct{ http.ResponseWriter }

func (n *noRanges) WriteHeader(code int) {
	n.Header().Del("Accept-Ranges")
	n.ResponseWriter.WriteHeader(code)
}

func (n *noRanges) Write(p []byte) (int, error) { return n.ResponseWriter.Write(p) }

func (n *noRanges) Flush() { http.NewResponseController(n.ResponseWriter).Flush() }
