package testutil

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultKind names one misbehaviour of the fault matrix: what a registry,
// a proxy in front of it or the network does wrong to one request.
type FaultKind string

// The fault kinds. Each is a FaultAction through Action.
const (
	FaultDrop        FaultKind = "drop"           // connection closed, nothing forwarded
	FaultStall       FaultKind = "stall"          // no answer until the client gives up
	Fault500         FaultKind = "500"            // 500 Internal Server Error, not forwarded
	Fault502         FaultKind = "502"            // 502 Bad Gateway, not forwarded
	Fault503         FaultKind = "503"            // 503 Service Unavailable, not forwarded
	Fault429         FaultKind = "429"            // 429 with Retry-After: 1, not forwarded
	FaultTruncate    FaultKind = "truncated body" // half the body under the original Content-Length, then a cut
	FaultWrongLength FaultKind = "wrong length"   // Content-Length one less than the body
	FaultFlipByte    FaultKind = "flipped byte"   // the middle byte of the body inverted
	FaultIgnoreRange FaultKind = "200 to Range"   // Range dropped: a 200 with the whole body
	FaultEmpty200    FaultKind = "empty 200"      // 200 with no body and no headers, not forwarded
	FaultRedirect    FaultKind = "redirect"       // 307 to the same request on a second, correct port
	FaultLostAnswer  FaultKind = "lost answer"    // forwarded and done, the answer never arrives
)

// FaultKinds lists every kind, in the matrix's order.
var FaultKinds = []FaultKind{
	FaultDrop, FaultStall, Fault500, Fault502, Fault503, Fault429, FaultTruncate,
	FaultWrongLength, FaultFlipByte, FaultIgnoreRange, FaultEmpty200, FaultRedirect, FaultLostAnswer,
}

// MaxStall bounds how long a stall fault holds a request when the client
// does not give up first.
const MaxStall = 20 * time.Second

// Action returns the FaultAction of kind k. redirectTo is the base URL
// ("http://127.0.0.1:PORT") a FaultRedirect sends the client to; the
// other kinds ignore it.
func (k FaultKind) Action(redirectTo string) FaultAction {
	switch k {
	case FaultDrop:
		return DropConnection()
	case FaultStall:
		return Stall(MaxStall)
	case Fault500, Fault502, Fault503:
		code, _ := strconv.Atoi(string(k))
		return Respond(code, http.Header{"Content-Type": {"text/plain"}}, http.StatusText(code)+"\n")
	case Fault429:
		return Respond(http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}, "Content-Type": {"application/json"}},
			`{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}`)
	case FaultTruncate:
		return TruncateBody()
	case FaultWrongLength:
		return ShortContentLength()
	case FaultFlipByte:
		return FlipMiddleByte()
	case FaultIgnoreRange:
		return IgnoreRange()
	case FaultEmpty200:
		return Respond(http.StatusOK, nil, "")
	case FaultRedirect:
		return RedirectTo(redirectTo)
	case FaultLostAnswer:
		return LoseAnswer()
	}
	panic(fmt.Sprintf("unknown fault kind %q", k))
}

// Stall holds the request without an answer until the client gives up, or
// for at most max, and then drops the connection.
func Stall(max time.Duration) FaultAction {
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		// Take the body, so that the server sees the client leave (it
		// watches the connection only once the body is read).
		io.Copy(io.Discard, r.Body)
		t := time.NewTimer(max)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
		}
		panic(http.ErrAbortHandler)
	}
}

// TruncateBody forwards the request and sends the answer with its original
// Content-Length but only the first half of its body, then cuts the
// connection.
func TruncateBody() FaultAction {
	return func(w http.ResponseWriter, r *http.Request, forward http.Handler) {
		forward.ServeHTTP(&bodyWriter{ResponseWriter: w, onWrite: func(off int64, p []byte) []byte {
			cl, _ := strconv.ParseInt(w.Header().Get("Content-Length"), 10, 64)
			n := max(cl/2, 1)
			if off+int64(len(p)) <= n {
				return p
			}
			if n > off {
				w.Write(p[:n-off])
			}
			http.NewResponseController(w).Flush()
			panic(http.ErrAbortHandler)
		}}, r)
	}
}

// ShortContentLength forwards the request and declares a Content-Length
// one byte short of the body, which then ends, cleanly for the client,
// one byte early.
func ShortContentLength() FaultAction {
	return func(w http.ResponseWriter, r *http.Request, forward http.Handler) {
		forward.ServeHTTP(&headerHook{ResponseWriter: w, hook: func(h http.Header) {
			if n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err == nil && n > 0 {
				h.Set("Content-Length", strconv.FormatInt(n-1, 10))
			}
		}}, r)
	}
}

// FlipMiddleByte forwards the request and inverts the middle byte of the
// answer's body (by its Content-Length).
func FlipMiddleByte() FaultAction {
	return func(w http.ResponseWriter, r *http.Request, forward http.Handler) {
		forward.ServeHTTP(&bodyWriter{ResponseWriter: w, onWrite: func(off int64, p []byte) []byte {
			cl, _ := strconv.ParseInt(w.Header().Get("Content-Length"), 10, 64)
			return flipAt(cl/2, off, p)
		}}, r)
	}
}

func flipAt(n, off int64, p []byte) []byte {
	if n >= off && n < off+int64(len(p)) {
		q := append([]byte(nil), p...)
		q[n-off] ^= 0xff
		return q
	}
	return p
}

// RedirectTo answers 307 with the same path and query on base (a second
// proxy to the same registry, say), without forwarding.
func RedirectTo(base string) FaultAction {
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		w.Header().Set("Location", base+r.URL.RequestURI())
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusTemporaryRedirect)
	}
}

// LoseAnswer forwards the whole request, lets the target act on it, and
// drops the client's connection instead of answering.
func LoseAnswer() FaultAction {
	return func(w http.ResponseWriter, r *http.Request, forward http.Handler) {
		forward.ServeHTTP(httptest.NewRecorder(), r)
		panic(http.ErrAbortHandler)
	}
}

// uploadID matches the session part of an upload URL, which differs
// between runs.
var uploadID = regexp.MustCompile(`/blobs/uploads/[^/?]+`)

// RequestIdentity names a request the same way in every run: the method,
// the path with upload session ids removed, the digest it commits and the
// Content-Range it sends. Two concurrent uploads of the same size have the
// same identity; Schedule tells them apart by order.
func RequestIdentity(r *http.Request) string {
	id := r.Method + " " + uploadID.ReplaceAllString(r.URL.Path, "/blobs/uploads/ID")
	if d := r.URL.Query().Get("digest"); d != "" {
		id += " digest=" + d
	}
	if cr := r.Header.Get("Content-Range"); cr != "" {
		id += " range=" + cr
	}
	return id
}

// Schedule is a Fault that strikes a request with probability rate,
// choosing the kind from kinds; both choices are a hash of seed and the
// request's identity (RequestIdentity and how many requests of that
// identity came before), so a schedule replays the same way from the same
// seed. Times is 0: it may strike any number of requests.
func Schedule(seed uint64, rate float64, redirectTo string, kinds ...FaultKind) Fault {
	var mu sync.Mutex
	seen := map[string]int{}
	choose := func(r *http.Request) (FaultKind, bool) {
		id := RequestIdentity(r)
		mu.Lock()
		n := seen[id]
		seen[id]++
		mu.Unlock()
		h := fnv.New64a()
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], seed)
		h.Write(b[:])
		fmt.Fprintf(h, "%s#%d", id, n)
		v := h.Sum64()
		if float64(v>>11)/float64(1<<53) >= rate || len(kinds) == 0 {
			return "", false
		}
		return kinds[(v&0x7ff)%uint64(len(kinds))], true
	}
	var pending sync.Map // *http.Request -> FaultKind, from Match to Action
	return Fault{
		Match: func(r *http.Request) bool {
			k, ok := choose(r)
			if ok {
				pending.Store(r, k)
			}
			return ok
		},
		Action: func(w http.ResponseWriter, r *http.Request, forward http.Handler) {
			k, _ := pending.LoadAndDelete(r)
			k.(FaultKind).Action(redirectTo)(w, r, forward)
		},
		Describe: func(r *http.Request) string {
			k, _ := pending.Load(r)
			s, _ := k.(FaultKind)
			return string(s)
		},
	}
}

// FirstOf matches the first request (by arrival) that match selects, and
// no other: one fault on one request.
func FirstOf(match func(*http.Request) bool) func(*http.Request) bool {
	var mu sync.Mutex
	done := false
	return func(r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		if done || !match(r) {
			return false
		}
		done = true
		return true
	}
}

// IsUpload reports whether r is part of a blob upload (POST, PATCH or PUT
// under /blobs/uploads/).
func IsUpload(r *http.Request) bool { return strings.Contains(r.URL.Path, "/blobs/uploads/") }
