package distribution

import (
	"context"
	"slices"
	"sync"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// referrersEdit changes a referrers list, reporting whether it did.
type referrersEdit func([]ocispec.Descriptor) ([]ocispec.Descriptor, bool)

// referrersTag is where a queue reads and writes one referrers tag.
type referrersTag interface {
	read(ctx context.Context) (*ocispec.Index, error)
	write(ctx context.Context, ix *ocispec.Index) error
}

// referrerQueues serialises the edits of each referrers tag within one
// process and merges those that wait: a tag is read, every edit queued
// while it was being read is applied, and it is written once. Pushing N
// referrers of one subject at once thus costs one read and one or two
// writes of its tag rather than N of each, and, unlike N independent
// read-modify-writes, loses none of them. The zero value is ready to use.
type referrerQueues struct {
	mu     sync.Mutex
	queues map[string]*referrerQueue
}

// referrerQueue is the state of one tag's queue while it runs.
type referrerQueue struct {
	waiting *editBatch // edits not yet taken by the runner
}

// editBatch is edits applied together; done closes when their write ends.
type editBatch struct {
	edits []referrersEdit
	done  chan struct{}
	err   error
}

// do queues edit for the tag key and waits for it to be written (or for
// ctx to end: the edit may then still be applied). The first caller for an
// idle key runs the queue, under its ctx, until no edit waits.
func (q *referrerQueues) do(ctx context.Context, key string, edit referrersEdit, tag referrersTag) error {
	q.mu.Lock()
	if q.queues == nil {
		q.queues = map[string]*referrerQueue{}
	}
	rq, running := q.queues[key]
	if !running {
		rq = &referrerQueue{}
		q.queues[key] = rq
	}
	if rq.waiting == nil {
		rq.waiting = &editBatch{done: make(chan struct{})}
	}
	b := rq.waiting
	b.edits = append(b.edits, edit)
	q.mu.Unlock()
	if !running {
		q.run(ctx, key, rq, tag)
	}
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run applies the waiting batches one after another. The tag is read
// before a batch is taken, so what arrives during the read joins it; after
// a write the index written is the one the next batch starts from.
func (q *referrerQueues) run(ctx context.Context, key string, rq *referrerQueue, tag referrersTag) {
	var ix *ocispec.Index
	for {
		var err error
		if ix == nil {
			ix, err = tag.read(ctx)
		}
		q.mu.Lock()
		b := rq.waiting
		rq.waiting = nil
		if b == nil {
			delete(q.queues, key)
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		if err == nil {
			list, changed := slices.Clone(ix.Manifests), false
			for _, edit := range b.edits {
				var c bool
				list, c = edit(list)
				changed = changed || c
			}
			if changed {
				next := *ix
				next.Manifests = list
				if err = tag.write(ctx, &next); err == nil {
					ix = &next
				}
			}
		}
		if err != nil {
			ix = nil // read it again for the next batch
		}
		b.err = err
		close(b.done)
	}
}
