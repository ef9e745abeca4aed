package main

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// throttle is a fault that slows every request and answer body to rate
// bytes per second, so that a kill lands in the middle of transfers, and
// holds a manifest PUT by tag for tagHold before forwarding it, which
// widens the tag-writing window. It counts the upload bytes it forwards.
type throttle struct {
	rate     atomic.Int64
	tagHold  time.Duration
	uploaded atomic.Int64
	ranges   atomic.Int32 // GETs that carried Range
	active   atomic.Int32 // requests being forwarded
	tagging  atomic.Int32 // manifest PUTs by tag under way
}

// quiesce waits (at most 20 s) until no request is being forwarded: a
// killed client's bodies still drain from the socket buffers for a
// while, and must not count towards the next run.
func (th *throttle) quiesce() {
	for deadline := time.Now().Add(20 * time.Second); th.active.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}

func newThrottle(rate int64, tagHold time.Duration) *throttle {
	th := &throttle{tagHold: tagHold}
	th.rate.Store(rate)
	return th
}

func (th *throttle) fault() testutil.Fault {
	return testutil.Fault{Action: func(w http.ResponseWriter, r *http.Request, forward http.Handler) {
		th.active.Add(1)
		defer th.active.Add(-1)
		if r.Header.Get("Range") != "" {
			th.ranges.Add(1)
		}
		if r.Body != nil && strings.Contains(r.URL.Path, "/blobs/uploads/") {
			r.Body = &slowReader{r: r.Body, rate: th.rate.Load(), count: &th.uploaded}
		}
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") && !strings.Contains(r.URL.Path, "sha256:") {
			th.tagging.Add(1)
			defer th.tagging.Add(-1)
			time.Sleep(th.tagHold)
		}
		forward.ServeHTTP(&slowWriter{ResponseWriter: w, rate: th.rate.Load()}, r)
	}}
}

type slowReader struct {
	r     io.ReadCloser
	rate  int64
	count *atomic.Int64
}

func (s *slowReader) Read(p []byte) (int, error) {
	if len(p) > int(s.rate/20) {
		p = p[:s.rate/20]
	}
	n, err := s.r.Read(p)
	s.count.Add(int64(n))
	time.Sleep(time.Duration(n) * time.Second / time.Duration(s.rate))
	return n, err
}

func (s *slowReader) Close() error { return s.r.Close() }

type slowWriter struct {
	http.ResponseWriter
	rate int64
}

func (s *slowWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), int(s.rate/20))
		m, err := s.ResponseWriter.Write(p[:n])
		written += m
		if err != nil {
			return written, err
		}
		http.NewResponseController(s.ResponseWriter).Flush()
		time.Sleep(time.Duration(m) * time.Second / time.Duration(s.rate))
		p = p[n:]
	}
	return written, nil
}

func (s *slowWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
