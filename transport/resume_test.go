package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hoist-dev/hoist/errcode"
)

// misbehaviour is what a rangeServer does to one request.
type misbehaviour struct {
	cutAfter    int64 // > 0: send this many body bytes, then drop the connection
	cleanEnd    int64 // > 0: send this many bytes with no Content-Length, then close (a clean EOF)
	ignoreRange bool  // answer 200 with everything, as a server without ranges does
	shift       int64 // start a 206 this many bytes away from the asked offset
	eqForm      bool  // write Content-Range as "bytes=S-E/N"
	status      int   // answer with this status and no body
	stall       int64 // > 0: send this many bytes, then nothing until the client leaves
}

// rangeServer serves data, honouring "Range: bytes=N-", and misbehaves
// on the i-th request as script[i] says (every request past the script
// as the last entry when repeat is set, else properly).
type rangeServer struct {
	*httptest.Server
	data   []byte
	script []misbehaviour
	repeat bool

	mu       sync.Mutex
	ranges   []string
	statuses []int
}

func newRangeServer(t *testing.T, data []byte, repeat bool, script ...misbehaviour) *rangeServer {
	s := &rangeServer{data: data, script: script, repeat: repeat}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *rangeServer) record(rng string, status int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ranges = append(s.ranges, rng)
	s.statuses = append(s.statuses, status)
	return len(s.ranges) - 1
}

func (s *rangeServer) seen() (ranges []string, statuses []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ranges...), append([]int(nil), s.statuses...)
}

func (s *rangeServer) serve(w http.ResponseWriter, r *http.Request) {
	rng := r.Header.Get("Range")
	s.mu.Lock()
	i := len(s.ranges)
	s.mu.Unlock()
	var m misbehaviour
	switch {
	case i < len(s.script):
		m = s.script[i]
	case s.repeat && len(s.script) > 0:
		m = s.script[len(s.script)-1]
	}
	if m.status != 0 {
		s.record(rng, m.status)
		w.WriteHeader(m.status)
		return
	}
	start := int64(0)
	if v, ok := strings.CutPrefix(rng, "bytes="); ok && !m.ignoreRange {
		start, _ = strconv.ParseInt(strings.TrimSuffix(v, "-"), 10, 64)
		start += m.shift
	}
	body := s.data[start:]
	status := http.StatusOK
	if start > 0 || (rng != "" && !m.ignoreRange) {
		status = http.StatusPartialContent
		form := "bytes %d-%d/%d"
		if m.eqForm {
			form = "bytes=%d-%d/%d"
		}
		w.Header().Set("Content-Range", fmt.Sprintf(form, start, len(s.data)-1, len(s.data)))
	}
	s.record(rng, status)
	if m.cleanEnd > 0 {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nConnection: close\r\n\r\n", status, http.StatusText(status))
		buf.Write(body[:m.cleanEnd])
		buf.Flush()
		conn.Close()
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	switch {
	case m.cutAfter > 0:
		w.Write(body[:m.cutAfter])
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler) // drops the connection mid-body
	case m.stall > 0:
		w.Write(body[:m.stall])
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
	default:
		w.Write(body)
	}
}

// opener returns a Resumable.Open that GETs s with hc.
func (s *rangeServer) opener(ctx context.Context, hc *http.Client) func(int64) (*http.Response, error) {
	return func(off int64) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
		if err != nil {
			return nil, err
		}
		if off > 0 {
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-", off))
		}
		return hc.Do(req)
	}
}

func testData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func TestResumingBody(t *testing.T) {
	data := testData(1000)
	cut := func(n int64) misbehaviour { return misbehaviour{cutAfter: n} }
	tests := []struct {
		name       string
		script     []misbehaviour
		repeat     bool // the last misbehaviour goes on for ever
		size       int64
		maxResumes int
		offset     int64
		want       []byte // nil: expect wantErr
		wantErr    string
		wantIs     error
		wantRanges []string
		wantStatus []int
	}{
		{
			name: "cut twice: resumed from each byte reached", script: []misbehaviour{cut(300), cut(300)},
			size: 1000, maxResumes: 5, want: data,
			wantRanges: []string{"", "bytes=300-", "bytes=600-"}, wantStatus: []int{200, 206, 206},
		},
		{
			name: "server ignores Range: the bytes already read are skipped", script: []misbehaviour{cut(300), {ignoreRange: true}},
			size: 1000, maxResumes: 5, want: data,
			wantRanges: []string{"", "bytes=300-"}, wantStatus: []int{200, 200},
		},
		{
			name: "206 from an earlier byte is lined up", script: []misbehaviour{cut(300), {shift: -120}},
			size: 1000, maxResumes: 5, want: data,
			wantRanges: []string{"", "bytes=300-"}, wantStatus: []int{200, 206},
		},
		{
			name: `Content-Range written "bytes=S-E/N" is understood`, script: []misbehaviour{cut(300), {eqForm: true}},
			size: 1000, maxResumes: 5, want: data,
			wantRanges: []string{"", "bytes=300-"},
		},
		{
			name: "206 from a later byte is refused, and tried again", script: []misbehaviour{cut(300), {shift: 50}},
			repeat: true, size: 1000, maxResumes: 2,
			wantErr:    `gave up after 2 resumes at byte 300: asked for bytes from 300, the server sent Content-Range "bytes 350-999/1000"`,
			wantRanges: []string{"", "bytes=300-", "bytes=300-"},
		},
		{
			name: "an error answer ends it at once", script: []misbehaviour{cut(300), {status: http.StatusNotFound}},
			repeat: true, size: 1000, maxResumes: 5,
			wantErr: "resuming at byte 300 after", wantIs: errcode.ErrNotFound,
			wantRanges: []string{"", "bytes=300-"},
		},
		{
			name: "every answer cut: gives up when the budget is spent", script: []misbehaviour{cut(100)},
			repeat: true, size: 1000, maxResumes: 3,
			wantErr: "gave up after 3 resumes at byte 400", wantIs: io.ErrUnexpectedEOF,
			wantRanges: []string{"", "bytes=100-", "bytes=200-", "bytes=300-"},
		},
		{
			name: "MaxResumes 0 does not resume", script: []misbehaviour{cut(300)},
			size: 1000, maxResumes: 0,
			wantErr: "broken at byte 300", wantIs: io.ErrUnexpectedEOF,
			wantRanges: []string{""},
		},
		{
			name: "a clean end before the known size is resumed", script: []misbehaviour{{cleanEnd: 300}},
			size: 1000, maxResumes: 5, want: data,
			wantRanges: []string{"", "bytes=300-"},
		},
		{
			name: "size unknown: a clean end is the end", script: []misbehaviour{{cleanEnd: 300}},
			size: -1, maxResumes: 5, want: data[:300],
			wantRanges: []string{""},
		},
		{
			name: "size unknown: a cut is resumed", script: []misbehaviour{cut(300)},
			size: -1, maxResumes: 5, want: data,
			wantRanges: []string{"", "bytes=300-"},
		},
		{
			name: "open at an offset", size: 1000, maxResumes: 5, offset: 700, want: data[700:],
			wantRanges: []string{"bytes=700-"}, wantStatus: []int{206},
		},
		{
			name: "open at an offset, Range ignored", script: []misbehaviour{{ignoreRange: true}},
			size: 1000, maxResumes: 5, offset: 700, want: data[700:],
			wantRanges: []string{"bytes=700-"}, wantStatus: []int{200},
		},
		{
			name: "open at an offset, then cut", script: []misbehaviour{cut(100)},
			size: 1000, maxResumes: 5, offset: 700, want: data[700:],
			wantRanges: []string{"bytes=700-", "bytes=800-"},
		},
		{
			name: "open at the end asks for nothing", size: 1000, maxResumes: 5, offset: 1000, want: []byte{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newRangeServer(t, data, tt.repeat, tt.script...)
			ctx := context.Background()
			src := Resumable{Name: "test blob", Size: tt.size, MaxResumes: tt.maxResumes, Open: s.opener(ctx, &http.Client{})}
			b, err := OpenResumingBody(ctx, src, tt.offset)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			got, err := io.ReadAll(b)
			if tt.want != nil {
				if err != nil || !bytes.Equal(got, tt.want) {
					t.Fatalf("read %d bytes (equal %v), err %v; want %d bytes", len(got), bytes.Equal(got, tt.want), err, len(tt.want))
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "test blob: ") {
					t.Fatalf("err %v, want one naming the body and saying %q", err, tt.wantErr)
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Fatalf("err %v is not %v", err, tt.wantIs)
				}
				if _, again := b.Read(make([]byte, 8)); again != err {
					t.Fatalf("read after the failure: %v, want the same failure", again)
				}
			}
			ranges, statuses := s.seen()
			if fmt.Sprintf("%q", ranges) != fmt.Sprintf("%q", tt.wantRanges) {
				t.Errorf("requests with Range %q, want %q", ranges, tt.wantRanges)
			}
			if tt.wantStatus != nil && fmt.Sprint(statuses) != fmt.Sprint(tt.wantStatus) {
				t.Errorf("answers %v, want %v", statuses, tt.wantStatus)
			}
		})
	}
}

func TestOpenResumingBodyRefuses(t *testing.T) {
	data := testData(1000)
	tests := []struct {
		name     string
		status   int
		size     int64
		offset   int64
		wantIs   error
		wantErr  string
		requests int
	}{
		{name: "first answer 404", status: http.StatusNotFound, size: 1000, wantIs: errcode.ErrNotFound, requests: 1},
		{name: "Content-Length differs from the size", size: 999, wantIs: errcode.ErrSizeMismatch, wantErr: "test blob: the server sends 1000 bytes, 999 expected", requests: 1},
		{name: "offset beyond the size", size: 1000, offset: 1001, wantErr: "test blob: offset 1001 is outside its 1000 bytes"},
		{name: "negative offset", size: -1, offset: -1, wantErr: "offset -1 is outside"},
		{name: "error answer at an offset", status: http.StatusForbidden, size: 1000, offset: 10, wantIs: errcode.ErrDenied, wantErr: "test blob: opening at byte 10", requests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var script []misbehaviour
			if tt.status != 0 {
				script = append(script, misbehaviour{status: tt.status})
			}
			s := newRangeServer(t, data, false, script...)
			ctx := context.Background()
			src := Resumable{Name: "test blob", Size: tt.size, MaxResumes: 5, Open: s.opener(ctx, &http.Client{})}
			b, err := OpenResumingBody(ctx, src, tt.offset)
			if err == nil {
				b.Close()
				t.Fatal("opened")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err %v is not %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err %v lacks %q", err, tt.wantErr)
			}
			if ranges, _ := s.seen(); len(ranges) != tt.requests {
				t.Errorf("%d requests, want %d", len(ranges), tt.requests)
			}
		})
	}
}

// A body that stalls (the transport's stall guard gives up on it) is
// resumed like a broken one.
func TestResumingBodyAfterStall(t *testing.T) {
	data := testData(1000)
	s := newRangeServer(t, data, false, misbehaviour{stall: 250})
	ctx := context.Background()
	hc := NewClient(New(WithStallTimeout(100*time.Millisecond), noRetry()))
	src := Resumable{Name: "test blob", Size: 1000, MaxResumes: 1, Open: s.opener(ctx, hc)}
	b, err := OpenResumingBody(ctx, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got, err := io.ReadAll(b)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, err %v", len(got), err)
	}
	if ranges, _ := s.seen(); fmt.Sprint(ranges) != "[ bytes=250-]" {
		t.Fatalf("requests with Range %q, want the stalled one then bytes=250-", ranges)
	}
}

// Once the context ends, a broken body is not asked for again.
func TestResumingBodyStopsWithContext(t *testing.T) {
	data := testData(1000)
	s := newRangeServer(t, data, false, misbehaviour{stall: 250})
	ctx, cancel := context.WithCancel(context.Background())
	src := Resumable{Name: "test blob", Size: 1000, MaxResumes: 5, Open: s.opener(ctx, &http.Client{})}
	b, err := OpenResumingBody(ctx, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := io.ReadFull(b, make([]byte, 250)); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, err = io.ReadAll(b)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "test blob: broken at byte 250") {
		t.Fatalf("err %v, want the cancellation at byte 250", err)
	}
	if ranges, _ := s.seen(); len(ranges) != 1 {
		t.Fatalf("%d requests after the cancel, want none", len(ranges)-1)
	}
}

// NewResumingBody carries on from a first answer the caller opened.
func TestNewResumingBody(t *testing.T) {
	data := testData(1000)
	s := newRangeServer(t, data, false, misbehaviour{cutAfter: 400})
	ctx := context.Background()
	open := s.opener(ctx, &http.Client{})
	resp, err := open(0)
	if err != nil {
		t.Fatal(err)
	}
	b := NewResumingBody(ctx, Resumable{Name: "layer", Size: resp.ContentLength, MaxResumes: 1, Open: open}, resp.Body)
	got, err := io.ReadAll(b)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, err %v", len(got), err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := b.Read(make([]byte, 1)); !errors.Is(err, http.ErrBodyReadAfterClose) {
		t.Fatalf("read after Close: %v", err)
	}
}

func TestContentRangeStart(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"bytes 300-999/1000", 300, true},
		{" bytes 0-0/1 ", 0, true},
		{"bytes=42-99/100", 42, true},
		{"bytes 7-99/*", 7, true},
		{"300-999/1000", 0, false},
		{"bytes */1000", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := contentRangeStart(tt.in)
			if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
				t.Fatalf("contentRangeStart(%q) = %d, %v", tt.in, got, err)
			}
		})
	}
}
