package serve

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// observe wraps h with the access log and the metrics.
func (s *Server) observe(h http.Handler) http.Handler {
	var mu sync.Mutex // one access-log line at a time
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.metrics.inFlight(1)
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &countingBody{ReadCloser: r.Body, n: &rec.in}
		}
		defer func() {
			s.metrics.inFlight(-1)
			dur := time.Since(start)
			s.metrics.observe(r.Method, rec.status, rec.in, rec.out, dur)
			if s.cfg.accessLog != nil {
				user, _, _ := r.BasicAuth()
				if user == "" {
					user = "-"
				}
				line := fmt.Sprintf("%s %s %s %q %d %d %d %.3fms %q\n",
					start.UTC().Format(time.RFC3339Nano), r.RemoteAddr, user,
					r.Method+" "+r.URL.RequestURI(), rec.status, rec.in, rec.out,
					float64(dur.Microseconds())/1000, r.UserAgent())
				mu.Lock()
				_, _ = io.WriteString(s.cfg.accessLog, line)
				mu.Unlock()
			}
		}()
		h.ServeHTTP(rec, r)
	})
}

// recorder keeps the status and counts the bytes of an answer.
type recorder struct {
	http.ResponseWriter
	status int
	in     int64
	out    int64
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(p)
	r.out += int64(n)
	return n, err
}

// ReadFrom passes the sendfile path of the connection through.
func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	r.wrote = true
	var n int64
	var err error
	if rf, ok := r.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(struct{ io.Writer }{r.ResponseWriter}, src)
	}
	r.out += n
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

type countingBody struct {
	io.ReadCloser
	n *int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	*c.n += int64(n)
	return n, err
}

// buckets are the request-duration histogram's upper bounds, in seconds.
var buckets = []float64{0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10, 60}

// metrics are the server's Prometheus metrics, written in the text
// exposition format.
type metrics struct {
	mu       sync.Mutex
	requests map[[2]string]int64 // method, code
	hist     map[string][]int64  // method: counts per bucket, then +Inf
	sum      map[string]float64
	bytesIn  int64
	bytesOut int64
	flight   int64
	started  time.Time
}

func newMetrics() *metrics {
	return &metrics{requests: map[[2]string]int64{}, hist: map[string][]int64{}, sum: map[string]float64{}, started: time.Now()}
}

func (m *metrics) inFlight(d int64) {
	m.mu.Lock()
	m.flight += d
	m.mu.Unlock()
}

func (m *metrics) observe(method string, status int, in, out int64, dur time.Duration) {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodPatch, http.MethodDelete:
	default:
		method = "other" // bounded label values
	}
	sec := dur.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[2]string{method, strconv.Itoa(status)}]++
	h := m.hist[method]
	if h == nil {
		h = make([]int64, len(buckets)+1)
		m.hist[method] = h
	}
	i, _ := slices.BinarySearch(buckets, sec)
	h[i]++
	m.sum[method] += sec
	m.bytesIn += in
	m.bytesOut += out
}

// ServeHTTP writes the metrics.
func (m *metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	m.mu.Lock()
	b.WriteString("# HELP hoist_http_requests_total HTTP requests answered, by method and status.\n# TYPE hoist_http_requests_total counter\n")
	keys := make([][2]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int { return strings.Compare(a[0]+a[1], b[0]+b[1]) })
	for _, k := range keys {
		fmt.Fprintf(&b, "hoist_http_requests_total{method=%q,code=%q} %d\n", k[0], k[1], m.requests[k])
	}
	b.WriteString("# HELP hoist_http_request_duration_seconds Time to answer a request, by method.\n# TYPE hoist_http_request_duration_seconds histogram\n")
	methods := make([]string, 0, len(m.hist))
	for k := range m.hist {
		methods = append(methods, k)
	}
	slices.Sort(methods)
	for _, meth := range methods {
		var cum int64
		for i, le := range buckets {
			cum += m.hist[meth][i]
			fmt.Fprintf(&b, "hoist_http_request_duration_seconds_bucket{method=%q,le=%q} %d\n", meth, strconv.FormatFloat(le, 'g', -1, 64), cum)
		}
		cum += m.hist[meth][len(buckets)]
		fmt.Fprintf(&b, "hoist_http_request_duration_seconds_bucket{method=%q,le=\"+Inf\"} %d\n", meth, cum)
		fmt.Fprintf(&b, "hoist_http_request_duration_seconds_sum{method=%q} %g\n", meth, m.sum[meth])
		fmt.Fprintf(&b, "hoist_http_request_duration_seconds_count{method=%q} %d\n", meth, cum)
	}
	fmt.Fprintf(&b, "# HELP hoist_http_request_bytes_total Bytes of request bodies read.\n# TYPE hoist_http_request_bytes_total counter\nhoist_http_request_bytes_total %d\n", m.bytesIn)
	fmt.Fprintf(&b, "# HELP hoist_http_response_bytes_total Bytes of answer bodies written.\n# TYPE hoist_http_response_bytes_total counter\nhoist_http_response_bytes_total %d\n", m.bytesOut)
	fmt.Fprintf(&b, "# HELP hoist_http_requests_in_flight Requests being answered.\n# TYPE hoist_http_requests_in_flight gauge\nhoist_http_requests_in_flight %d\n", m.flight)
	fmt.Fprintf(&b, "# HELP hoist_start_time_seconds When the server started (Unix time).\n# TYPE hoist_start_time_seconds gauge\nhoist_start_time_seconds %d\n", m.started.Unix())
	m.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = io.WriteString(w, b.String())
}
