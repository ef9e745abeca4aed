package fuzzcheck

import (
	"bufio"
	"bytes"
	"os"
	"runtime/metrics"
	"strconv"
	"testing"
)

// Slack is the fixed part of every bound: what a call may use whatever
// its input. It also covers the metric's granularity: the runtime counts
// small allocations per span when a span is refilled, so a reading can lag
// by up to a span per size class.
const Slack = 2 << 20

// heapAllocs is the runtime's cumulative count of bytes allocated on the
// heap. Reading it does not stop the world, unlike runtime.ReadMemStats.
const heapAllocs = "/gc/heap/allocs:bytes"

// HeapAllocated runs fn and returns how many bytes the process allocated
// on the heap meanwhile. A fuzz worker runs one input at a time, so this
// is fn's allocation plus a little noise from the worker itself.
func HeapAllocated(fn func()) uint64 {
	s := []metrics.Sample{{Name: heapAllocs}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	fn()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}

// Heap runs fn and fails t when fn allocated more than Slack plus perByte
// bytes for each of the n bytes of its input: the allocation bound of a
// parser that reads untrusted input. what names the call in the failure.
func Heap(t testing.TB, what string, n int, perByte uint64, fn func()) {
	t.Helper()
	limit := Slack + perByte*uint64(n)
	if got := HeapAllocated(fn); got > limit {
		t.Fatalf("%s allocated %d bytes for a %d-byte input; the bound is %d", what, got, n, limit)
	}
}

// FileBytesRead runs fn and returns how many bytes the process read
// through read system calls meanwhile (rchar in /proc/self/io), or -1
// where that count is not available.
func FileBytesRead(fn func()) int64 {
	before := rchar()
	fn()
	after := rchar()
	if before < 0 || after < 0 {
		return -1
	}
	return after - before
}

// rchar returns the process's rchar counter, or -1.
func rchar() int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("rchar: ")); ok {
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}
