package copy

import (
	"container/heap"
	"context"
	"sync"
)

// slots bounds the bulk transfers of a Copier and hands each free slot
// to the largest blob waiting for one, so that the longest transfer
// starts at once and the smaller ones fill in around it. A transfer takes
// its place in the queue when its tree is scheduled (enqueue, in size
// order), not when its goroutine happens to run, so the order does not
// depend on the Go scheduler.
type slots struct {
	mu    sync.Mutex
	free  int
	seq   uint64
	queue ticketHeap
}

func newSlots(n int) *slots { return &slots{free: n} }

// ticket is one transfer's place in the queue.
type ticket struct {
	size    int64
	seq     uint64
	idx     int // in the heap; -1 when out of it
	granted chan struct{}
	s       *slots
	held    bool // granted and not yet released
}

// enqueue queues a transfer of size bytes; a free slot goes to it at
// once when nobody larger waits.
func (s *slots) enqueue(size int64) *ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	t := &ticket{size: size, seq: s.seq, granted: make(chan struct{}), s: s, idx: -1}
	heap.Push(&s.queue, t)
	s.grant()
	return t
}

// grant hands free slots to the largest waiters. s.mu is held.
func (s *slots) grant() {
	for s.free > 0 && s.queue.Len() > 0 {
		t := heap.Pop(&s.queue).(*ticket)
		s.free--
		t.held = true
		close(t.granted)
	}
}

// wait blocks until t holds a slot or ctx ends; on an error t holds
// nothing.
func (t *ticket) wait(ctx context.Context) error {
	select {
	case <-t.granted:
		return nil
	case <-ctx.Done():
		t.release()
		return ctx.Err()
	}
}

// release gives t's slot back, or takes t out of the queue if it was
// still waiting. It is safe to call more than once.
func (t *ticket) release() {
	s := t.s
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case t.held:
		t.held = false
		s.free++
		s.grant()
	case t.idx >= 0:
		heap.Remove(&s.queue, t.idx)
	}
}

// tryAcquire takes a free slot without queueing, when nobody waits for
// one; release it with put.
func (s *slots) tryAcquire() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.free > 0 && s.queue.Len() == 0 {
		s.free--
		return true
	}
	return false
}

// put gives back a slot tryAcquire took.
func (s *slots) put() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.free++
	s.grant()
}

// ticketHeap orders tickets largest first, then first come.
type ticketHeap []*ticket

func (h ticketHeap) Len() int { return len(h) }
func (h ticketHeap) Less(i, j int) bool {
	if h[i].size != h[j].size {
		return h[i].size > h[j].size
	}
	return h[i].seq < h[j].seq
}
func (h ticketHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *ticketHeap) Push(x any) {
	t := x.(*ticket)
	t.idx = len(*h)
	*h = append(*h, t)
}
func (h *ticketHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.idx = -1
	return t
}
