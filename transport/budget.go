package transport

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultMaxWait is how long one operation may wait on registries in all
// (Retry-After, backoff between retries, attempts that timed out) when
// neither WithWaitBudget nor RetryPolicy.MaxWait says otherwise.
const DefaultMaxWait = time.Minute

// Wait describes one wait between two attempts of a request, as
// WithWaitNotice reports it before the wait begins.
type Wait struct {
	// Host is the registry host that answered.
	Host string
	// For is how long the wait lasts.
	For time.Duration
	// Asked is true when the registry asked for the wait (Retry-After),
	// false for hoist's own backoff after a failure.
	Asked bool
	// Reason is what the attempt ended in: "429 Too Many Requests", a
	// stall, a reset.
	Reason string
}

// String is the line a program shows its user, e.g.
// "registry.example.com: registry asks to wait 20s (429 Too Many Requests)".
func (w Wait) String() string {
	if w.Asked {
		return fmt.Sprintf("%s: registry asks to wait %s (%s)", w.Host, w.For.Round(time.Millisecond), w.Reason)
	}
	return fmt.Sprintf("%s: %s; retrying in %s", w.Host, w.Reason, w.For.Round(time.Millisecond))
}

// WaitBudget bounds the time one operation (a pull, a push, a copy, every
// request it makes) spends not moving data: sleeping for Retry-After and
// backoff, and attempts that ended in a timeout. Concurrent waits of one
// operation overlap in time, so the budget is charged with the wall time
// during which at least one request waits, not their sum. A WaitBudget is
// safe for concurrent use; the zero value is not usable, see NewWaitBudget.
type WaitBudget struct {
	max time.Duration

	mu      sync.Mutex
	waiters int
	since   time.Time
	spent   time.Duration
}

// NewWaitBudget returns a budget of max; max <= 0 means DefaultMaxWait.
func NewWaitBudget(max time.Duration) *WaitBudget {
	if max <= 0 {
		max = DefaultMaxWait
	}
	return &WaitBudget{max: max}
}

type budgetKey struct{}

// WithWaitBudget returns a context whose requests share b: a retry waits
// only while b has time left, and a request that would wait beyond it
// fails with a *WaitBudgetError instead.
func WithWaitBudget(ctx context.Context, b *WaitBudget) context.Context {
	return context.WithValue(ctx, budgetKey{}, b)
}

// BudgetFrom returns the WaitBudget of ctx, or nil.
func BudgetFrom(ctx context.Context) *WaitBudget {
	b, _ := ctx.Value(budgetKey{}).(*WaitBudget)
	return b
}

// Max returns the budget's size.
func (b *WaitBudget) Max() time.Duration { return b.max }

// Spent returns how much of the budget is used, a wait under way included.
func (b *WaitBudget) Spent() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.spentLocked(time.Now())
}

func (b *WaitBudget) spentLocked(now time.Time) time.Duration {
	s := b.spent
	if b.waiters > 0 {
		s += now.Sub(b.since)
	}
	return s
}

// Left returns what remains of the budget, never below 0.
func (b *WaitBudget) Left() time.Duration { return max(b.max-b.Spent(), 0) }

// start and stop bracket a span of not moving data, at times read from
// the retrier's Clock.
func (b *WaitBudget) start(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.waiters == 0 {
		b.since = now
	}
	b.waiters++
}

func (b *WaitBudget) stop(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.waiters--
	if b.waiters == 0 {
		b.spent += max(now.Sub(b.since), 0)
	}
}

// hinted wraps a WaitBudgetError in the option that raises the budget.
func hinted(e *WaitBudgetError) error {
	return &OptionHint{Err: e, Action: "wait longer", Option: "hoist.WithMaxWait"}
}

// Sleep waits d on clock (nil: the wall clock) and charges it to b. It
// fails with a *WaitBudgetError, without waiting, when d does not fit in
// what is left; host and cause go into that error.
func (b *WaitBudget) Sleep(ctx context.Context, clock Clock, d time.Duration, host string, cause error) error {
	if clock == nil {
		clock = realClock{}
	}
	if b.Spent()+d > b.max {
		return hinted(&WaitBudgetError{Host: host, Asked: d, Waited: b.Spent(), Max: b.max, Err: cause})
	}
	b.start(clock.Now())
	err := clock.Sleep(ctx, d)
	b.stop(clock.Now())
	return err
}

// charge adds d, time already lost (an attempt that timed out), unless a
// wait under way already covers it.
func (b *WaitBudget) charge(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.waiters == 0 {
		b.spent += d
	}
}

// WaitBudgetError reports a request that gave up because waiting more
// would go beyond the wait budget (WithWaitBudget, RetryPolicy.MaxWait),
// or because the registry asked for a wait longer than
// RetryPolicy.MaxRetryAfter. It wraps the registry's last answer, an
// *errcode.Error (so errors.Is(err, errcode.ErrRateLimited) holds for a
// 429), or the last network error.
type WaitBudgetError struct {
	// Host is the registry host.
	Host string
	// Asked is the wait the registry asked for last (0: none, hoist's
	// own backoff was next).
	Asked time.Duration
	// Waited is the budget already spent; Max is its size.
	Waited, Max time.Duration
	// Err is the registry's answer or the network error.
	Err error
}

func (e *WaitBudgetError) Error() string {
	ask := "a retry"
	if e.Asked > 0 {
		ask = "a wait of " + e.Asked.String()
	}
	if e.Waited == 0 && e.Asked > e.Max {
		return fmt.Sprintf("%s asks for %s, more than the %s hoist waits: %v", e.Host, ask, e.Max, e.Err)
	}
	return fmt.Sprintf("%s asks for %s after %s of waiting, the most hoist waits is %s: %v",
		e.Host, ask, e.Waited.Round(time.Second), e.Max, e.Err)
}

func (e *WaitBudgetError) Unwrap() error { return e.Err }
