package distribution

import (
	"errors"

	"github.com/hoist-dev/hoist/errcode"
)

// minLearnedChunk is the smallest chunk a 413 makes hoist try: below it,
// the cap is not a body-size cap worth working around.
const minLearnedChunk = 64 << 10

// firstLearnedChunk is the first chunk size tried after a 413 on a body of
// unknown cap: nginx's default client_max_body_size, the cap met most. A
// source that cannot be rewound has one more try after a 413 (a new upload
// session, see package copy), so the first guess should be right; a lower
// cap is found by halving, from a source that can be rewound.
const firstLearnedChunk = 1 << 20

// chunkSize is the largest body one upload request may carry: the
// WithMaxChunkSize option, lowered by what 413 answers taught; 0 for no
// limit.
func (r *Registry) chunkSize() int64 {
	learned := r.learnedChunk.Load()
	switch {
	case learned == 0:
		return r.opts.maxChunk
	case r.opts.maxChunk == 0:
		return learned
	}
	return min(learned, r.opts.maxChunk)
}

// tooLarge reports whether err is a 413 (Request Entity Too Large) for a
// body of n bytes, and if so lowers the chunk size for every later upload
// to this registry: half of n, or the first guess for a whole blob, never
// below minLearnedChunk. It reports false when the chunk cannot go lower.
func (r *Registry) tooLarge(err error, n int64) bool {
	var ee *errcode.Error
	if !errors.As(err, &ee) || ee.Status != 413 {
		return false
	}
	next := n / 2
	if cur := r.chunkSize(); cur == 0 || cur >= n {
		next = min(next, firstLearnedChunk)
	} else {
		next = min(next, cur)
	}
	if next < minLearnedChunk {
		return false
	}
	for {
		old := r.learnedChunk.Load()
		if old != 0 && old <= next {
			return true
		}
		if r.learnedChunk.CompareAndSwap(old, next) {
			return true
		}
	}
}
