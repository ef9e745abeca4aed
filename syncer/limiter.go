package syncer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hoist-dev/hoist/errcode"
	"github.com/hoist-dev/hoist/transport"
)

// limiter bounds the requests to one registry host: how many are in
// flight (until their answer's headers), how many start a second, and
// how much of the quota the registry reports (Docker Hub's RateLimit-*
// headers) is spent. It is an http.RoundTripper over the host's client.
type limiter struct {
	host   string
	lim    HostLimits
	next   http.RoundTripper
	notify func(Wait)
	counts adder

	sem     chan struct{}
	waiting chan struct{} // held by the one request waiting for quota

	mu       sync.Mutex
	start    time.Time // when the next request may start (Rate)
	quota    quota
	inflight int           // quota-spending requests sent and not answered
	spent    int           // quota-spending requests sent since the last report
	seq      uint64        // requests sent so far, numbering them
	heard    uint64        // the number of the request whose report is the quota
	answered bool          // an answer came: whether the host reports a quota is known
	first    chan struct{} // closed with the first answer
	scout    bool          // a quota-spending request went before any answer
}

// quota is what the registry last said of its rate limit.
type quota struct {
	known     bool
	limit     int
	remaining int
	window    time.Duration // the w= of RateLimit-Limit; 0 unknown
	reset     time.Time     // from RateLimit-Reset or Retry-After; zero unknown
	reported  time.Time
}

// Wait is one pause a sync made for a host's rate limit, before it began.
type Wait struct {
	// Host is the registry host.
	Host string `json:"host"`
	// For is how long the pause lasts.
	For time.Duration `json:"-"`
	// Reason says why: the quota the registry reported, or its 429.
	Reason string `json:"reason"`
	// Seconds is For in seconds, for JSON.
	Seconds float64 `json:"seconds"`
}

// String is the line a program shows its user.
func (w Wait) String() string {
	return fmt.Sprintf("%s: waiting %s: %s", w.Host, w.For.Round(time.Second), w.Reason)
}

// adder counts requests.
type adder interface{ add(host, kind string) }

func newLimiter(host string, lim HostLimits, next http.RoundTripper, notify func(Wait), counts adder) *limiter {
	return &limiter{host: host, lim: lim, next: next, notify: notify, counts: counts, sem: make(chan struct{}, lim.Concurrency), waiting: make(chan struct{}, 1), first: make(chan struct{})}
}

// spendsQuota reports whether req counts against a registry's pull
// quota: a GET of a manifest, which is what Docker Hub counts (HEAD
// requests and blob downloads are free there).
func spendsQuota(req *http.Request) bool {
	return req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/manifests/")
}

// RoundTrip sends req within the host's limits.
func (l *limiter) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	l.counts.add(l.host, requestKind(req))
	spends := spendsQuota(req)
	for attempt := 0; ; attempt++ {
		if spends {
			if err := l.waitQuota(req); err != nil {
				return nil, err
			}
		}
		if err := l.acquire(ctx); err != nil {
			if spends {
				l.unspend()
			}
			return nil, err
		}
		seq := l.number()
		resp, err := l.next.RoundTrip(req)
		<-l.sem
		l.observe(resp, spends, seq)
		limited, after := tooMany(resp, err)
		if !limited || attempt > 0 || req.Body != nil && req.GetBody == nil {
			return resp, err
		}
		// Someone else spent the quota, or the registry counts what it did
		// not report: pause the host as it asks, then once more.
		if resp != nil {
			resp.Body.Close()
		}
		if after <= 0 {
			l.mu.Lock()
			after = l.refill(l.quota, l.quota.remaining-l.spent, l.reserve(l.quota))
			l.mu.Unlock()
		}
		if perr := l.pauseFor(ctx, after, 0, "the registry answered 429 Too Many Requests"); perr != nil {
			if err == nil {
				err = perr
			}
			return nil, err
		}
		if req.GetBody != nil {
			b, gerr := req.GetBody()
			if gerr != nil {
				return nil, gerr
			}
			req = req.Clone(ctx)
			req.Body = b
		}
	}
}

// acquire takes a slot of the host's concurrency and waits for its rate.
func (l *limiter) acquire(ctx context.Context) error {
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if l.lim.Rate <= 0 {
		return nil
	}
	l.mu.Lock()
	now := time.Now()
	at := l.start
	if at.Before(now) {
		at = now
	}
	l.start = at.Add(time.Duration(float64(time.Second) / l.lim.Rate))
	l.mu.Unlock()
	if d := time.Until(at); d > 0 {
		if err := transport.Sleep(ctx, d); err != nil {
			<-l.sem
			return err
		}
	}
	return nil
}

// waitQuota holds a quota-spending request while the host's reported
// remaining quota, less what was sent since, is at or below the reserve,
// and counts it as sent once it may go. While it waits it asks the
// registry again with a HEAD of the same URL, which Docker Hub answers
// with the current quota without spending any; one request waits and
// asks at a time, the others queue behind it.
func (l *limiter) waitQuota(req *http.Request) error {
	ctx := req.Context()
	waited := time.Duration(0)
	for {
		l.mu.Lock()
		if !l.answered && l.scout {
			// Until the host has answered once, one request goes alone:
			// its answer says whether there is a quota to keep to.
			l.mu.Unlock()
			select {
			case <-l.first:
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		l.scout = true
		q := l.quota
		left := q.remaining - l.spent
		reserve := l.reserve(q)
		if !q.known || left > reserve {
			l.spent++
			l.inflight++
			l.mu.Unlock()
			return nil
		}
		l.mu.Unlock()
		// One waiter at a time; the others see what it learnt.
		select {
		case l.waiting <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		l.mu.Lock()
		q, left = l.quota, l.quota.remaining-l.spent
		l.mu.Unlock()
		if !q.known || left > reserve {
			<-l.waiting
			continue
		}
		d := l.refill(q, left, reserve)
		reason := fmt.Sprintf("the registry reports %d of %d requests left", max(left, 0), q.limit)
		if q.window > 0 {
			reason += fmt.Sprintf(" in its %s window", q.window)
		}
		if reserve > 0 {
			reason += fmt.Sprintf(", and %d stay in reserve", reserve)
		}
		err := l.pauseFor(ctx, d, waited, reason)
		if err == nil {
			waited += d
			err = l.probe(req)
		}
		<-l.waiting
		if err != nil {
			return err
		}
	}
}

// reserve is the quota left unspent: HostLimits.Reserve, or by default
// a tenth of the registry's limit, at most the host's concurrency.
func (l *limiter) reserve(q quota) int {
	if l.lim.Reserve > 0 {
		return l.lim.Reserve
	}
	return min(l.lim.Concurrency, q.limit/10)
}

// refill is how long to wait before asking the registry again: until its
// window resets, when it said when; else, for a sliding window, the time
// it takes to free the requests needed at limit per window (at least a
// second); else a minute.
func (l *limiter) refill(q quota, left, reserve int) time.Duration {
	if !q.reset.IsZero() {
		return max(time.Until(q.reset), time.Second)
	}
	if q.window > 0 && q.limit > 0 {
		need := reserve + 1 - left
		return max(time.Duration(need)*q.window/time.Duration(q.limit), time.Second)
	}
	return time.Minute
}

// probe asks for req's URL with a HEAD, which spends no quota, to learn
// the quota anew.
func (l *limiter) probe(req *http.Request) error {
	h := req.Clone(req.Context())
	h.Method, h.Body, h.GetBody, h.ContentLength = http.MethodHead, nil, nil, 0
	if err := l.acquire(req.Context()); err != nil {
		return err
	}
	l.counts.add(l.host, requestKind(h))
	seq := l.number()
	resp, err := l.next.RoundTrip(h)
	<-l.sem
	if err != nil {
		return nil // the GET itself will tell
	}
	resp.Body.Close()
	if _, ok := parseQuota(resp.Header, time.Now()); ok {
		l.observe(resp, false, seq)
	} else {
		// The registry says nothing more: let the request go.
		l.mu.Lock()
		l.quota.known = false
		l.mu.Unlock()
	}
	return nil
}

// pauseFor waits d, telling the user first; a wait that would take the
// request's pauses (waited so far) past the host's MaxPause is an error.
func (l *limiter) pauseFor(ctx context.Context, d, waited time.Duration, reason string) error {
	max := time.Duration(l.lim.MaxPause)
	if waited+d > max {
		return fmt.Errorf("%s: %s; waiting for more would take past the %s allowed (raise hosts.%s.maxPause, or run again later): %w",
			l.host, reason, max, l.host, errcode.ErrRateLimited)
	}
	if l.notify != nil {
		l.notify(Wait{Host: l.host, For: d, Reason: reason, Seconds: d.Seconds()})
	}
	return transport.Sleep(ctx, d)
}

// number numbers a request about to be sent.
func (l *limiter) number() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	return l.seq
}

// observe reads the rate-limit headers of the answer to request seq.
// Answers arrive out of order: one to a request sent before the request
// whose report the quota holds is older news, and is ignored (a HEAD sent
// early saying 8 left must not undo a later GET's answer saying 6).
func (l *limiter) observe(resp *http.Response, spent bool, seq uint64) {
	var q quota
	var ok bool
	if resp != nil {
		q, ok = parseQuota(resp.Header, time.Now())
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if spent {
		l.inflight--
	}
	if !l.answered { // an error answers too: waiting longer would not tell more
		l.answered = true
		close(l.first)
	}
	if !ok || seq < l.heard {
		return
	}
	// What was sent and not answered yet may or may not be in the count.
	l.quota, l.spent, l.heard = q, l.inflight, seq
}

// unspend takes back what waitQuota counted for a request never sent.
func (l *limiter) unspend() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight--
	l.spent = max(l.spent-1, 0)
}

// tooMany reports whether an answer is a 429, and the wait it asked for.
func tooMany(resp *http.Response, err error) (bool, time.Duration) {
	if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
		d, _ := retryAfter(resp.Header.Get("Retry-After"), time.Now())
		return true, d
	}
	var e *errcode.Error
	if errors.As(err, &e) && e.Status == http.StatusTooManyRequests {
		return true, e.RetryAfter
	}
	return false, 0
}

// parseQuota reads Docker Hub's RateLimit-Limit ("100;w=21600") and
// RateLimit-Remaining ("76;w=21600"), the IETF draft's RateLimit-Reset
// (seconds) and its combined RateLimit ("limit=100, remaining=50,
// reset=30").
func parseQuota(h http.Header, now time.Time) (quota, bool) {
	q := quota{reported: now}
	rem := h.Get("RateLimit-Remaining")
	if rem == "" {
		if v := h.Get("RateLimit"); v != "" {
			return parseCombined(v, now)
		}
		return q, false
	}
	n, w, ok := quotaValue(rem)
	if !ok {
		return q, false
	}
	q.known, q.remaining, q.window = true, n, w
	if lim, lw, ok := quotaValue(h.Get("RateLimit-Limit")); ok {
		q.limit = lim
		if lw > 0 {
			q.window = lw
		}
	}
	if s, err := strconv.Atoi(strings.TrimSpace(h.Get("RateLimit-Reset"))); err == nil && s >= 0 {
		q.reset = now.Add(time.Duration(s) * time.Second)
	}
	return q, true
}

// quotaValue reads "N" or "N;w=SECONDS" (more parameters are ignored).
func quotaValue(v string) (n int, window time.Duration, ok bool) {
	parts := strings.Split(v, ";")
	n, err := strconv.Atoi(strings.TrimSpace(parts[0]))
	if err != nil || n < 0 {
		return 0, 0, false
	}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if k == "w" {
			if s, err := strconv.Atoi(val); err == nil && s > 0 {
				window = time.Duration(s) * time.Second
			}
		}
	}
	return n, window, true
}

func parseCombined(v string, now time.Time) (quota, bool) {
	q := quota{reported: now}
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' }) {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		n, err := strconv.Atoi(strings.Trim(val, `"`))
		if err != nil || n < 0 {
			continue
		}
		switch k {
		case "limit":
			q.limit = n
		case "remaining", "r":
			q.known, q.remaining = true, n
		case "reset", "t":
			q.reset = now.Add(time.Duration(n) * time.Second)
		}
	}
	return q, q.known
}

// retryAfter reads a Retry-After value: seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
