package tariff

import (
	"math/bits"
	"time"
)

// Part is the share of one tariff in an interval's byte delta.
type Part struct {
	Tariff string
	Bytes  uint64
}

// Split divides delta, the bytes counted between t0 and t1, among the
// tariffs in force during (t0, t1], pro rata by time. The parts add up to
// delta exactly; see the package documentation for the rounding. There is
// one part per tariff in force for a positive duration, in order of first
// appearance. When t1 <= t0 the whole delta goes to the tariff at t1.
func Split(delta uint64, t0, t1 time.Time, s *Schedule) []Part {
	return AppendSplit(nil, delta, t0, t1, s)
}

// AppendSplit is Split appending to dst; it does not allocate when dst has
// room for the parts (at most len(s.Tariffs())).
func AppendSplit(dst []Part, delta uint64, t0, t1 time.Time, s *Schedule) []Part {
	base := len(dst)
	if !t1.After(t0) {
		return append(dst, Part{Tariff: s.names[s.at(t1)], Bytes: delta})
	}
	s.splitRange(newProrate(delta, t0, t1), t0, t1, func(tariff uint8, b uint64) {
		name := s.names[tariff]
		for i := base; i < len(dst); i++ {
			if dst[i].Tariff == name {
				dst[i].Bytes += b
				return
			}
		}
		dst = append(dst, Part{Tariff: name, Bytes: b})
	})
	return dst
}

// prorate is the cumulative share F(x) = floor(delta * (x-t0) / (t1-t0))
// of an interval [t0, t1]: the bytes of [a, b) are F(b) - F(a), so any
// subdivision telescopes to F(t1) - F(t0) = delta.
type prorate struct {
	delta uint64
	t0    time.Time
	d     uint64 // t1 - t0 in nanoseconds, > 0
}

func newProrate(delta uint64, t0, t1 time.Time) prorate {
	return prorate{delta: delta, t0: t0, d: durationNS(t0, t1)}
}

// durationNS returns b - a in nanoseconds for a <= b. time.Sub saturates
// after 292 years; F stays monotone and exact in its sum even then.
func durationNS(a, b time.Time) uint64 {
	if d := b.Sub(a); d > 0 {
		return uint64(d)
	}
	return 0
}

// at returns F(x) for t0 <= x <= t1.
func (p prorate) at(x time.Time) uint64 {
	x0 := durationNS(p.t0, x)
	if x0 >= p.d {
		return p.delta
	}
	// delta < 2^64 and x0 < d, so hi < d and Div64 cannot panic.
	hi, lo := bits.Mul64(p.delta, x0)
	q, _ := bits.Div64(hi, lo, p.d)
	return q
}

// splitRange hands the bytes of [a, b] (p.t0 <= a < b <= p.t1) to fn, one
// call per stretch of constant tariff of positive length.
func (s *Schedule) splitRange(p prorate, a, b time.Time, fn func(tariff uint8, bytes uint64)) {
	cur, from, fa := s.at(a), a, p.at(a)
	s.walk(a, b, func(at time.Time, tariff uint8) {
		if at.After(from) {
			fb := p.at(at)
			fn(cur, fb-fa)
			from, fa = at, fb
		}
		cur = tariff
	})
	if b.After(from) {
		fn(cur, p.at(b)-fa)
	}
}
