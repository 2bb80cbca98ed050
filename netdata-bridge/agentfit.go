package bridge

import "math"

// agentFit is the last refresh clock an adaptive agent claimed for an
// interface (a reply with refresh_ns and a window narrowed by it). The
// agent drops refresh_ns as soon as one change surprises it, and under
// load that is most often a read that ran late, not a driver that
// changed its clock. While the agent doubts, a reply without any window
// would be held as unsure (a gap); agentFit places it instead when the
// claimed clock and the delta agree beyond doubt (place).
type agentFit struct {
	periodNS int64
	// anchorNS is the midpoint of the last window claimed with the
	// period, halfNS half its width.
	anchorNS, halfNS int64
}

// The bounds of placing a read by a claimed clock the agent doubts.
const (
	// fitMaxAgeNS: a clock claimed longer ago than this places nothing;
	// an agent doubts for a few seconds when a read ran late.
	fitMaxAgeNS = 30e9
	// fitDriftPPM is the drift allowed per second since the anchor: a
	// period rounded to the nanosecond and fitted over seconds is good
	// to well under 100 ppm.
	fitDriftPPM = 100
	// fitSlackNS is added to the window's half width: the driver's
	// timer jitter the agent's margins allow.
	fitSlackNS = 2e6
	// readLagNS: the values of a read may be older than its mono_ns by
	// the scheduling delay between reading them and stamping the read.
	// A refresh inside that delay would be placed one period late.
	readLagNS = 50e6
	// fitRateBand: the delta must match the last exact rate over the
	// predicted refreshes to 1 part in fitRateBand (0.5 %, the issue's
	// bound for a sample's error). One refresh more or fewer changes it
	// by half or more at 1 s sampling; a clock whose refresh moved by δ
	// changes it by δ/span, so a placement that passes is off by less
	// than 0.5 % even then. Traffic that changes by more is held, as
	// before the clock was kept.
	fitRateBand = 200
)

func (a *agentFit) valid() bool { return a.periodNS > 0 }

// recent reports whether the clock was claimed within fitMaxAgeNS of
// mono: an agent without a window since then is in doubt or finding its
// clock again, not without one.
func (a *agentFit) recent(mono int64) bool {
	return a.valid() && mono >= a.anchorNS && mono-a.anchorNS <= fitMaxAgeNS
}

// claim records the window (lo, hi] that an agent claimed with its
// period p.
func (a *agentFit) claim(lo, hi, p int64) {
	*a = agentFit{periodNS: p, anchorNS: lo + (hi-lo)/2, halfNS: (hi - lo) / 2}
}

// margin is how far from a predicted instant a refresh may lie at t.
func (a *agentFit) margin(t int64) int64 {
	return a.halfNS + fitSlackNS + abs(t-a.anchorNS)/1e9*fitDriftPPM*1e3
}

// agrees reports whether the window (lo, hi] that the agent claimed
// without a period (its reads' own, while it doubts) holds a refresh
// of the clock: if not, the driver's clock changed.
func (a *agentFit) agrees(lo, hi int64) bool {
	m := a.margin(hi)
	t := a.anchorNS + floorDiv(hi+m-a.anchorNS, a.periodNS)*a.periodNS
	return t+m > lo
}

// lastRate is the last exact rate of an interface: bytes (received and
// sent) over a span between two refreshes.
type lastRate struct {
	bytes  uint64
	spanNS int64
}

// place returns the window of the refresh that a read at mono, without
// a window of its own, is current as of, by the claimed clock a. base
// is the refresh instant of the previous values (the interval's start),
// delta the bytes since them and last the rate before. It refuses (ok
// false) unless every doubt is excluded:
//   - the clock was claimed within fitMaxAgeNS;
//   - the read lies farther than the clock's margin plus readLagNS after
//     the latest predicted refresh and farther than the margin before
//     the next, so that which refresh the values are current as of is
//     not in question if the clock holds;
//   - the base is on the clock and whole periods lie between it and the
//     refresh placed;
//   - delta matches last's rate over those periods to 0.5 %: a changed
//     clock (a refresh more or fewer, a moved phase) shows there.
func (a *agentFit) place(mono, base int64, delta uint64, last lastRate) (lo, hi int64, ok bool) {
	if !a.recent(mono) || base <= 0 || last.bytes == 0 || last.spanNS <= 0 {
		return 0, 0, false
	}
	p := a.periodNS
	m := a.margin(mono)
	t := a.anchorNS + floorDiv(mono-a.anchorNS, p)*p
	if mono-t <= m+readLagNS || t+p-mono <= m {
		return 0, 0, false
	}
	n := floorDiv(t-base+p/2, p)
	if n < 1 || abs(t-base-n*p) > a.margin(base)+a.halfNS {
		return 0, 0, false
	}
	want := float64(last.bytes) / float64(last.spanNS) * float64(n*p)
	if math.Abs(float64(delta)-want)*fitRateBand > want {
		return 0, 0, false
	}
	return t - a.halfNS - fitSlackNS, t + a.halfNS + fitSlackNS, true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
