package transport

import (
	"sync"
	"time"
)

// meter applies the minimum-throughput rule to a response body, like
// curl's --speed-limit and --speed-time: when the body has been read for
// a whole window and yielded fewer than min bytes per second of that
// time, fire is called once with the rate measured. Only time spent
// inside Read counts, so a caller that stops reading for a while (a copy
// waiting on its destination) is not taken for a slow server. A nil
// *meter does nothing.
type meter struct {
	min    int64
	window time.Duration
	fire   func(rate float64)

	mu        sync.Mutex
	inRead    bool
	readStart time.Time
	busy      time.Duration // time inside Read since the window began
	bytes     int64         // bytes read since the window began
	timer     *time.Timer
	stopped   bool
}

func newMeter(min int64, window time.Duration, fire func(rate float64)) *meter {
	m := &meter{min: min, window: window, fire: fire}
	m.timer = time.AfterFunc(m.tick(), m.check)
	return m
}

// tick is how often a Read that blocks is looked at.
func (m *meter) tick() time.Duration { return max(m.window/4, 10*time.Millisecond) }

func (m *meter) begin() {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.inRead, m.readStart = true, time.Now()
	m.mu.Unlock()
}

func (m *meter) end(n int) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	m.busy += now.Sub(m.readStart)
	m.inRead = false
	m.bytes += int64(n)
	m.evaluate(now)
}

func (m *meter) check() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return
	}
	m.evaluate(time.Now())
	if !m.stopped {
		m.timer.Reset(m.tick())
	}
}

// evaluate closes the window once it is full of reading: too few bytes
// fire, enough start a new window.
func (m *meter) evaluate(now time.Time) {
	if m.stopped {
		return
	}
	busy := m.busy
	if m.inRead {
		busy += now.Sub(m.readStart)
	}
	if busy < m.window {
		return
	}
	if float64(m.bytes) < float64(m.min)*busy.Seconds() {
		m.stopped = true
		m.timer.Stop()
		go m.fire(float64(m.bytes) / busy.Seconds())
		return
	}
	m.busy, m.bytes = 0, 0
	if m.inRead {
		m.readStart = now
	}
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
