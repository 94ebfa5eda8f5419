package sim

import (
	"math/bits"
	"time"
)

// histogram counts latencies in log-linear buckets: exact below 16 µs,
// then 16 buckets per power of two (at most 1/16 relative error). It keeps
// a long run's latencies in a few kilobytes.
type histogram struct {
	counts [64 * 16]int64
	n      int64
	max    time.Duration
}

func bucketOf(d time.Duration) int {
	us := uint64(max(d.Microseconds(), 0))
	if us < 16 {
		return int(us)
	}
	k := bits.Len64(us) - 1 // us in [2^k, 2^(k+1)), k >= 4
	sub := (us >> (k - 4)) & 15
	return (k-3)*16 + int(sub)
}

// bucketUpper is the largest latency counted in bucket i.
func bucketUpper(i int) time.Duration {
	if i < 16 {
		return time.Duration(i) * time.Microsecond
	}
	k := i/16 + 3
	sub := uint64(i % 16)
	upper := (16+sub+1)<<(k-4) - 1
	return time.Duration(upper) * time.Microsecond
}

func (h *histogram) add(d time.Duration) {
	h.counts[bucketOf(d)]++
	h.n++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the upper bound of the bucket holding quantile q (0..1),
// never more than the maximum seen.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(bucketUpper(i), h.max)
		}
	}
	return h.max
}
