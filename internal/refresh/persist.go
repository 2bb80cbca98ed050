package refresh

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Change is one change window, as Observe takes it: a refresh happened in
// (UnchangedNS, ChangedNS], both MonoNS of the boot they were seen in.
type Change struct{ UnchangedNS, ChangedNS int64 }

// ErrBadWindows is the category of every error of Restore and Unpack:
// persisted windows are input from disk or a broker and may be damaged.
var ErrBadWindows = errors.New("bad refresh windows")

// Changes returns a copy of the windows the Estimator fits, oldest first.
// They are its whole fit: an Estimator restored from them (Restore) gives
// the same Estimate, so a restarted bridge need not wait for MinWindows
// new ones.
func (e *Estimator) Changes() []Change {
	if len(e.gaps) == 0 {
		return nil
	}
	ws := make([]Change, len(e.gaps))
	for i, w := range e.windows() {
		ws[i] = Change{w.lo, w.hi}
	}
	return ws
}

// Restore replaces the windows with ws, of which only the latest History
// are kept (a bridge whose History shrank keeps its newest fit). ws must
// be what Observe would have accepted: 0 < UnchangedNS < ChangedNS,
// ascending and not overlapping. Anything else is an error wrapping ErrBadWindows and leaves
// the Estimator as it was: a damaged checkpoint costs the fit, nothing
// more. Restore does not know the agent's boot: windows of another boot
// are the caller's to drop.
func (e *Estimator) Restore(ws []Change) error {
	if n := e.history(); len(ws) > n {
		ws = ws[len(ws)-n:]
	}
	for i, w := range ws {
		if w.UnchangedNS <= 0 || w.ChangedNS <= w.UnchangedNS {
			return fmt.Errorf("%w: window %d is (%d, %d]", ErrBadWindows, i, w.UnchangedNS, w.ChangedNS)
		}
		if i > 0 && w.UnchangedNS < ws[i-1].ChangedNS {
			return fmt.Errorf("%w: window %d (%d, %d] overlaps or precedes (%d, %d]", ErrBadWindows, i, w.UnchangedNS, w.ChangedNS, ws[i-1].UnchangedNS, ws[i-1].ChangedNS)
		}
	}
	e.Reset()
	for _, w := range ws {
		e.push(w.UnchangedNS, w.ChangedNS)
	}
	// Fit at the next Estimate whatever the count: the restored windows
	// were fitted in another process, not in this one.
	e.dirty, e.looked = len(ws) > 0, false
	e.sinceFit = refitEvery
	return nil
}

// Pack delta-encodes windows for persisting: the first UnchangedNS, then
// each window's width and, from the second on, the gap since the previous
// ChangedNS before it: [lo0, w0, g1, w1, g2, w2, …]. Gaps and widths are
// under a period, 8 or 9 digits instead of a MonoNS's 13 to 16, which
// keeps 64 windows near 1.2 kB of JSON. Nil for no windows.
func Pack(ws []Change) []int64 {
	if len(ws) == 0 {
		return nil
	}
	p := make([]int64, 0, 2*len(ws))
	p = append(p, ws[0].UnchangedNS, ws[0].ChangedNS-ws[0].UnchangedNS)
	for i := 1; i < len(ws); i++ {
		p = append(p, ws[i].UnchangedNS-ws[i-1].ChangedNS, ws[i].ChangedNS-ws[i].UnchangedNS)
	}
	return p
}

// Unpack reverses Pack. It refuses (ErrBadWindows) an odd length, more
// than maxWindows windows, and negative or overflowing values; whether the
// windows are otherwise acceptable is Restore's to check.
func Unpack(p []int64, maxWindows int) ([]Change, error) {
	if len(p)%2 != 0 {
		return nil, fmt.Errorf("%w: %d packed values, want an even number", ErrBadWindows, len(p))
	}
	if len(p)/2 > maxWindows {
		return nil, fmt.Errorf("%w: %d windows, over the limit of %d", ErrBadWindows, len(p)/2, maxWindows)
	}
	ws := make([]Change, 0, len(p)/2)
	var at int64
	for i := 0; i < len(p); i += 2 {
		gap, width := p[i], p[i+1]
		if gap < 0 || width < 0 || gap > math.MaxInt64-at || width > math.MaxInt64-at-gap {
			return nil, fmt.Errorf("%w: packed window %d (%d, %d) is negative or overflows", ErrBadWindows, i/2, gap, width)
		}
		lo := at + gap
		at = lo + width
		ws = append(ws, Change{lo, at})
	}
	return ws, nil
}

// Reach is how long after the newest of ws (ascending, as Restore takes
// them) a new window may come and still be fitted with them as one clock;
// 0 for fewer than two. A fit counts the refreshes across a gap with the
// mean period of the windows before it, which is known to about a
// window's width over their span: across a gap G the count is off by
// G/P · width/span periods. Reach keeps that under a quarter period.
func Reach(ws []Change) int64 {
	n := len(ws)
	if n < 2 {
		return 0
	}
	widths := make([]int64, n)
	spacings := make([]int64, n-1)
	for i, w := range ws {
		widths[i] = w.ChangedNS - w.UnchangedNS
		if i > 0 {
			spacings[i-1] = (w.UnchangedNS + widths[i]/2) - (ws[i-1].UnchangedNS + widths[i-1]/2)
		}
	}
	slices.Sort(widths)
	slices.Sort(spacings)
	width, period := float64(max(widths[n/2], 1)), float64(spacings[(n-1)/2])
	span := float64(ws[n-1].ChangedNS) - float64(ws[0].UnchangedNS)
	return int64(min(max(span*period/(4*width), 0), math.MaxInt64/2))
}
