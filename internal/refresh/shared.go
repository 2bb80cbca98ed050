package refresh

import "slices"

// sharedEntries is how many fits a Shared keeps: a router's interfaces
// come in a few refresh clocks (a switch chip's ports, the CPU's own
// ports, a PPPoE session), rarely more than eight.
const sharedEntries = 8

// Shared lets Estimators that were fed the same windows share one fit.
// The ports of a switch chip are refreshed by one timer and read by the
// same reads, so their windows are the same, and each fit, redone every
// few windows per port, is most of the agent's own work on a router
// without an FPU (62 % of the adaptive watch's instructions with 8 ports
// of one clock under qemu-mipsel, BenchmarkWatchClocks). A fit depends on
// the windows alone, so one found here is exactly the fit the Estimator
// would compute; it also brings an Estimator whose refit was not yet due
// up to date with its siblings.
//
// Not safe for concurrent use: the Estimators sharing one must be used
// from one goroutine at a time.
type Shared struct {
	fits [sharedEntries]sharedFit
	next int
	// hits counts the fits taken from here rather than computed (for
	// the tests).
	hits uint64
}

type sharedFit struct {
	first, last int64
	minWindows  int
	gaps        []uint32
	far         []int64
	widths      []float32
	est         Estimate
	ok          bool
}

// find returns the fit of e's windows if one is kept.
func (s *Shared) find(e *Estimator) (Estimate, bool) {
	for i := range s.fits {
		f := &s.fits[i]
		if f.ok && f.first == e.first && f.last == e.last && f.minWindows == e.minWindows() &&
			slices.Equal(f.gaps, e.gaps) && slices.Equal(f.widths, e.widths) && slices.Equal(f.far, e.far) {
			s.hits++
			return f.est, true
		}
	}
	return Estimate{}, false
}

// keep stores est as the fit of e's windows, over the oldest kept.
func (s *Shared) keep(e *Estimator, est Estimate) {
	f := &s.fits[s.next]
	s.next = (s.next + 1) % sharedEntries
	f.first, f.last, f.minWindows, f.est, f.ok = e.first, e.last, e.minWindows(), est, true
	f.gaps = append(f.gaps[:0], e.gaps...)
	f.far = append(f.far[:0], e.far...)
	f.widths = append(f.widths[:0], e.widths...)
}
