package main

import (
	"fmt"
	"time"
)

// modelFloor is a case's floor computed from the measured link and the
// blob sizes: the time no client can beat on that link, given the round
// trips the case needs at the least.
type modelFloor struct {
	one    time.Duration // every blob over its own connection, all at once
	ranged time.Duration // the blobs split over n ranged connections; 0: not applicable
	how    string        // the formula, for the report
}

// transfer is how long the bytes take when largest is what one connection
// carries and total what all of them carry: largest ÷ rate, and on an
// uncapped link (where the machine, not the cap, sets the pace) at least
// total ÷ the measured n-connection rate.
func (l linkParams) transfer(largest, total int64) time.Duration {
	t := float64(largest) / l.rate
	if !l.capped && l.aggRate > 0 {
		t = max(t, float64(total)/l.aggRate)
	}
	return time.Duration(t * float64(time.Second))
}

// computeFloor applies the model to case c. The round trips each case needs
// at the least (R = one round trip; toxiproxy delays data, not the TCP
// handshake, so a new connection costs no extra round trip here):
//
//	pull, copy      manifest GET, then every blob GET at once: 2R + transfer
//	push            blob POST, then its PUT with the body, then the manifest PUT: 3R + transfer
//	copy-mount      manifest GET, every mount POST at once, manifest PUT: 3R
//	copy-all-tags   tags list, every manifest GET at once, every blob GET at once: 3R + transfer
//	manifest-index  one GET: R
//
// In a copy the target is near (on loopback), so its requests add no round
// trips. The ranged floor splits all bytes over n connections evenly
// (n = -ranges); an upload cannot be split (a push is one ordered stream
// per blob), so push has none.
func computeFloor(c caseName, l linkParams, fx fixtures) modelFloor {
	r := l.rtt
	big := fx.big.blobs
	largest, total := sizes(big)
	split := func() time.Duration {
		return l.transfer(ceilDiv(total, int64(l.n)), total)
	}
	switch c {
	case casePull, caseCopy:
		return modelFloor{one: 2*r + l.transfer(largest, total), ranged: 2*r + split(),
			how: fmt.Sprintf("2R + largest %s ÷ rate; ranged: 2R + all %s ÷ (n × rate)%s", mibText(largest), mibText(total), l.uncappedNote())}
	case casePush:
		return modelFloor{one: 3*r + l.transfer(largest, total), how: "3R + largest ÷ rate" + l.uncappedNote()}
	case caseMount:
		return modelFloor{one: 3 * r, ranged: 3 * r, how: "3R (no bytes move)"}
	case caseAllTags:
		tl, tt := sizes(uniqueBlobs(fx.tags))
		return modelFloor{one: 3*r + l.transfer(tl, tt), ranged: 3*r + l.transfer(ceilDiv(tt, int64(l.n)), tt),
			how: fmt.Sprintf("3R + largest %s ÷ rate; ranged: 3R + all %s ÷ (n × rate)%s", mibText(tl), mibText(tt), l.uncappedNote())}
	case caseIndex:
		return modelFloor{one: r, ranged: r, how: "R"}
	}
	return modelFloor{}
}

// uncappedNote says when the n-connection rate bounds the transfer too.
func (l linkParams) uncappedNote() string {
	if l.capped {
		return ""
	}
	return "; uncapped link: each at least all ÷ n-connection rate"
}

func sizes(blobs []blobRef) (largest, total int64) {
	for _, b := range blobs {
		largest = max(largest, b.size)
		total += b.size
	}
	return largest, total
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

func mibText(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/mib) }
