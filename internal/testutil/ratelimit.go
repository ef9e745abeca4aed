package testutil

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Quota is a FaultProxy front that behaves as Docker Hub's pull limit:
// every answer carries RateLimit-Limit and RateLimit-Remaining
// ("N;w=SECONDS"), manifest GETs spend the quota (HEADs and blobs are
// free), and a manifest GET past Limit within the last Window (a sliding
// window) is answered 429 Too Many Requests with Retry-After.
type Quota struct {
	Limit  int
	Window time.Duration

	mu       sync.Mutex
	spent    []time.Time // manifest GETs within the window, oldest first
	rejected int
	served   int
}

// Fault returns the fault that applies q to every request.
func (q *Quota) Fault() Fault {
	return Fault{Action: q.serve, Describe: func(r *http.Request) string { return "quota" }}
}

// Rejected is how many requests q answered 429.
func (q *Quota) Rejected() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.rejected
}

// Spent is how many manifest GETs q let through.
func (q *Quota) Spent() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.served
}

func (q *Quota) serve(w http.ResponseWriter, r *http.Request, forward http.Handler) {
	spends := r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/")
	q.mu.Lock()
	now := time.Now()
	for len(q.spent) > 0 && now.Sub(q.spent[0]) >= q.Window {
		q.spent = q.spent[1:]
	}
	over := spends && len(q.spent) >= q.Limit
	var retry time.Duration
	switch {
	case over:
		q.rejected++
		retry = q.Window - now.Sub(q.spent[0])
	case spends:
		q.spent = append(q.spent, now)
		q.served++
	}
	left := q.Limit - len(q.spent)
	q.mu.Unlock()
	secs := int(q.Window / time.Second)
	w.Header().Set("RateLimit-Limit", fmt.Sprintf("%d;w=%d", q.Limit, secs))
	w.Header().Set("RateLimit-Remaining", fmt.Sprintf("%d;w=%d", left, secs))
	if over {
		w.Header().Set("Retry-After", strconv.Itoa(int(retry/time.Second)+1))
		Respond(http.StatusTooManyRequests, http.Header{"Content-Type": {"application/json"}},
			`{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}`)(w, r, forward)
		return
	}
	forward.ServeHTTP(w, r)
}
