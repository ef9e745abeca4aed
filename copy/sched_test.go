package copy

import (
	"context"
	"testing"
)

// With one slot taken, the waiting transfers get it largest first,
// whatever order they queued in.
func TestSlotsLargestFirst(t *testing.T) {
	s := newSlots(1)
	first := s.enqueue(5)
	if err := first.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	sizes := []int64{2 << 20, 96 << 20, 8 << 20, 64 << 20}
	var ts []*ticket
	for _, n := range sizes {
		ts = append(ts, s.enqueue(n))
	}
	var got []int64
	first.release()
	for range sizes {
		for i, tk := range ts {
			select {
			case <-tk.granted:
				if tk.held {
					got = append(got, sizes[i])
					tk.release()
				}
			default:
			}
		}
	}
	want := []int64{96 << 20, 64 << 20, 8 << 20, 2 << 20}
	if len(got) != len(want) {
		t.Fatalf("granted %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("granted %v, want %v", got, want)
		}
	}
}

// A ticket whose context ends while it waits leaves the queue and takes
// nothing.
func TestSlotsCancelledWaiter(t *testing.T) {
	s := newSlots(1)
	a := s.enqueue(1)
	b := s.enqueue(2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.wait(ctx); err == nil {
		t.Fatal("wait on an ended context succeeded")
	}
	a.release()
	if !s.tryAcquire() {
		t.Fatal("the slot did not come back free")
	}
}
