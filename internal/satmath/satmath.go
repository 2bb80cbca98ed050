// Package satmath is saturating arithmetic for counters, totals and spans:
// a sum or product that would overflow stops at the largest value instead
// of wrapping to a small one, so a hostile or absurd input can make a
// total large, never wrong by wrapping, and never a panic.
package satmath

import (
	"math"
	"math/bits"
)

// Add returns a+b, or math.MaxUint64 where that overflows.
func Add(a, b uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return s
}

// Mul returns a·b, or math.MaxUint64 where that overflows.
func Mul(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}

// Int64 returns v as an int64, math.MaxInt64 where it does not fit.
func Int64(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

// AddInt64 returns a+b for non-negative a and b, or math.MaxInt64 where
// that overflows.
func AddInt64(a, b int64) int64 {
	s, carry := bits.Add64(uint64(a), uint64(b), 0)
	if carry != 0 || s > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(s)
}
