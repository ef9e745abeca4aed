package store

import (
	"slices"
	"testing"
)

func TestAddRange(t *testing.T) {
	r := func(off, n int64) Range { return Range{Offset: off, Length: n} }
	for _, tc := range []struct {
		name string
		in   []Range
		add  Range
		want []Range
	}{
		{"empty", nil, r(10, 5), []Range{r(10, 5)}},
		{"before", []Range{r(10, 5)}, r(0, 5), []Range{r(0, 5), r(10, 5)}},
		{"after", []Range{r(10, 5)}, r(20, 5), []Range{r(10, 5), r(20, 5)}},
		{"between", []Range{r(0, 5), r(20, 5)}, r(10, 2), []Range{r(0, 5), r(10, 2), r(20, 5)}},
		{"touching before", []Range{r(10, 5)}, r(5, 5), []Range{r(5, 10)}},
		{"touching after", []Range{r(10, 5)}, r(15, 5), []Range{r(10, 10)}},
		{"bridging", []Range{r(0, 5), r(10, 5), r(30, 5)}, r(5, 5), []Range{r(0, 15), r(30, 5)}},
		{"swallowing", []Range{r(0, 2), r(4, 2), r(8, 2), r(20, 1)}, r(1, 10), []Range{r(0, 11), r(20, 1)}},
		{"inside", []Range{r(0, 10)}, r(2, 3), []Range{r(0, 10)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := AddRange(slices.Clone(tc.in), tc.add)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("AddRange(%v, %v) = %v, want %v", tc.in, tc.add, got, tc.want)
			}
		})
	}
}

// TestAddRangeReuses checks that a ranged fetch's one-range-per-read
// additions do not copy the slice each time.
func TestAddRangeReuses(t *testing.T) {
	rs := make([]Range, 0, 4)
	rs = AddRange(rs, Range{Offset: 100, Length: 10})
	allocs := testing.AllocsPerRun(100, func() {
		rs = AddRange(rs, Range{Offset: 110, Length: 10})
		rs = rs[:1]
		rs[0] = Range{Offset: 100, Length: 10}
	})
	if allocs != 0 {
		t.Fatalf("AddRange allocated %v times per merging call, want 0", allocs)
	}
}
