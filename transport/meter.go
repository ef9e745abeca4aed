package transport

import (
	"sync"
	"sync/atomic"
	"time"
)

// meter applies the minimum-throughput rule to a response body, like
// curl's --speed-limit and --speed-time: when the body has been read for
// a whole window and yielded fewer than min bytes per second of that
// time, fire is called once with the rate measured. Only time spent
// inside Read counts, so a caller that stops reading for a while (a copy
// waiting on its destination) is not taken for a slow server. Reads only
// touch atomics; a timer looks at the window a few times per window. A
// nil *meter does nothing.
type meter struct {
	min    int64
	window time.Duration
	fire   func(rate float64)
	origin time.Time

	inRead    atomic.Bool
	readStart atomic.Int64 // ns since origin
	busy      atomic.Int64 // ns inside Read since the window began
	bytes     atomic.Int64 // bytes read since the window began

	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
}

func newMeter(min int64, window time.Duration, fire func(rate float64)) *meter {
	m := &meter{min: min, window: window, fire: fire, origin: time.Now()}
	m.timer = time.AfterFunc(m.tick(), m.check)
	return m
}

// tick is how often the window is looked at.
func (m *meter) tick() time.Duration { return max(m.window/4, 10*time.Millisecond) }

func (m *meter) now() int64 { return int64(time.Since(m.origin)) }

func (m *meter) begin() {
	if m == nil {
		return
	}
	m.readStart.Store(m.now())
	m.inRead.Store(true)
}

func (m *meter) end(n int) {
	if m == nil {
		return
	}
	m.busy.Add(m.now() - m.readStart.Load())
	m.bytes.Add(int64(n))
	m.inRead.Store(false)
}

// check closes the window once it is full of reading: too few bytes
// fire, enough start a new window.
func (m *meter) check() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return
	}
	busy, bytes := m.busy.Load(), m.bytes.Load()
	now := m.now()
	cur := int64(0)
	if m.inRead.Load() {
		cur = max(now-m.readStart.Load(), 0)
	}
	if total := time.Duration(busy + cur); total >= m.window {
		if float64(bytes) < float64(m.min)*total.Seconds() {
			m.stopped = true
			go m.fire(float64(bytes) / total.Seconds())
			return
		}
		m.busy.Add(-busy)
		m.bytes.Add(-bytes)
		if cur > 0 {
			// The read under way counts into the next window from now.
			m.busy.Add(-cur)
		}
	}
	m.timer.Reset(m.tick())
}

func (m *meter) stop() {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.stopped = true
	m.mu.Unlock()
	m.timer.Stop()
}
