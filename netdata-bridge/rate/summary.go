package rate

import "github.com/ifstat-mqtt/ifstat-mqtt/internal/satmath"

// Summary is what the results of one output period (say one second of
// 0.25 s samples) say about one counter: the average rate over the span
// they cover and the peak rate of a single interval.
type Summary struct {
	// Intervals counts the results summarised, Rated those with a rate
	// (Status OK) and Stale those where the counters had not refreshed.
	Intervals, Rated, Stale int
	// Delta is the sum of the rated deltas and SpanNS the sum of their
	// DtNS: the average covers exactly the traffic and time they hold.
	Delta  uint64
	SpanNS int64
	// Average is Delta over SpanNS times mult (PerSecond); 0 when Rated
	// is 0.
	Average uint64
	// Peak is the highest rate of one rated interval (a microburst) and
	// PeakSpanNS that interval's DtNS: the window the peak is measured
	// over, never shorter than the counter's refresh period.
	Peak       uint64
	PeakSpanNS int64
	// TooCoarse is true when the counter refreshes more slowly than the
	// sampling interval: refreshNS > intervalNS, or a Stale result among
	// the results. Rates then cover whole refresh periods, so Peak is the
	// peak over PeakSpanNS, not over one sampling interval: a consumer
	// labels it so, or shows only Average.
	TooCoarse bool
}

// Summarize folds results into a Summary of counter c; mult 8 turns bytes
// into bits/s. intervalNS is the sampling interval; refreshNS the
// counter's refresh period when known (package refresh), else 0.
func Summarize(results []Result, c Counter, mult uint64, intervalNS, refreshNS int64) Summary {
	s := Summary{Intervals: len(results)}
	for _, r := range results {
		switch {
		case r.Status == Stale:
			s.Stale++
		case r.Rate && r.DtNS > 0:
			s.Rated++
			s.Delta = satmath.Add(s.Delta, r.Delta[c])
			s.SpanNS = satmath.AddInt64(s.SpanNS, r.DtNS)
			if p := r.PerSecond(c, mult); p > s.Peak || s.Rated == 1 {
				s.Peak, s.PeakSpanNS = p, r.DtNS
			}
		}
	}
	if s.Rated > 0 {
		s.Average = PerSecond(s.Delta, s.SpanNS, mult)
	}
	s.TooCoarse = s.Stale > 0 || (refreshNS > 0 && intervalNS > 0 && refreshNS > intervalNS)
	return s
}
