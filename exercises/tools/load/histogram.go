package main

import (
	"math"
	"math/bits"
	"time"
)

// A histogram counts durations in buckets, so that it takes the same memory for
// ten lines or ten million. Keeping every duration and sorting them at the end
// would be exact, but a run of 100 clients can deliver millions of lines.
//
// The buckets grow with the values they hold, the way a ruler's marks would if
// they were always 1/64 of the length they measure: values under 128 ns have a
// bucket each; from 128 ns on, each power of two is cut into 64 equal buckets.
// So every bucket is at most 1/64 as wide as its smallest value, and a
// percentile read from the histogram is at most 1.6% above the true one.
const (
	subBuckets = 64 // buckets per power of two
	topBits    = 7  // the bits of a value that pick its bucket: 64 to 127 fit in 7

	// numBuckets is enough for any time.Duration: it has 63 bits, so the shift in
	// bucket is at most 63-topBits, and the index below (63-topBits+2)*subBuckets.
	numBuckets = (63 - topBits + 2) * subBuckets
)

type histogram struct {
	counts [numBuckets]int64
	n      int64         // how many values were added
	max    time.Duration // the largest of them
}

// bucket returns the index of the bucket that counts d.
func bucket(d time.Duration) int {
	v := uint64(max(d, 0))
	if v < 2*subBuckets {
		return int(v) // small values are counted exactly
	}
	// shift is how many low bits we forget: it leaves v's top 7 bits, a number
	// from 64 to 127. Each shift has its own row of 64 buckets.
	shift := bits.Len64(v) - topBits
	return shift*subBuckets + int(v>>shift)
}

// bucketBounds returns the smallest and the largest duration that bucket i counts.
func bucketBounds(i int) (lo, hi time.Duration) {
	if i < 2*subBuckets {
		return time.Duration(i), time.Duration(i)
	}
	shift := i/subBuckets - 1
	top := uint64(i - shift*subBuckets) // 64 to 127, as in bucket
	return time.Duration(top << shift), time.Duration((top+1)<<shift - 1)
}

func (h *histogram) add(d time.Duration) {
	h.counts[bucket(d)]++
	h.n++
	h.max = max(h.max, d)
}

// percentile returns the smallest duration that at least p percent of the values
// are not above (the "nearest rank" definition: p99 of 100 values is the 99th
// smallest). Read from the histogram, it is the top of the bucket holding that
// value, so it may be up to 1/64 too high, never too low. With no values it is 0.
func (h *histogram) percentile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(p * float64(h.n) / 100)) // how many values are at or below it
	rank = min(max(rank, 1), h.n)
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketBounds(i)
			return min(hi, h.max) // the largest value is known exactly
		}
	}
	return h.max // not reached: the counts add up to n
}
