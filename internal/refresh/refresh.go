package refresh

import (
	"math"
	"slices"
)

// Defaults for the zero fields of Config.
const (
	DefaultHistory    = 64
	DefaultMinWindows = 8
)

// Config tunes an Estimator; the zero value uses the defaults.
type Config struct {
	// History is how many of the latest windows are fitted; at one refresh
	// per second, 64 is about a minute. If zero, DefaultHistory.
	History int
	// MinWindows is the fewest windows an estimate is trusted with. If
	// zero, DefaultMinWindows.
	MinWindows int
	// RefitAfterGap fits each of the first refitEvery windows after a
	// stretch of more than longSpacing periods without any (an idle
	// interface) at once, rather than every refitEvery windows. Those
	// windows carry the most: with the ones before the stretch they pin
	// the period across it, and the estimate they replace was
	// extrapolated over it. For a fit that places probes (the agent's
	// adaptive watch): with the old cadence its first probes of new
	// traffic after 45 s of idle fell a millisecond off a 0.5 s
	// driver's refresh. A bridge keeping thousands of fits, some on
	// interfaces that only trickle, leaves it off.
	//
	// It also fits at once a window more than two periods after the one
	// before: an agent over its CPU budget probes two refreshes in a
	// row of every four, eight or sixteen, and waiting for refitEvery windows left
	// its fit 30 periods old and 3 ms off a 0.9765 s driver.
	RefitAfterGap bool
	// Shared, if set, holds fits that Estimators fed the same windows
	// take from each other (see Shared).
	Shared *Shared
}

// Estimate is what the windows say about the refresh clock.
type Estimate struct {
	// PeriodNS is the fitted refresh period; 0 when unknown (too few
	// windows, or the counters change at every read: see AtMostNS).
	PeriodNS int64
	// PhaseNS is one fitted refresh instant (MonoNS): refreshes fall at
	// PhaseNS + k·PeriodNS.
	PhaseNS int64
	// Windows is the number of windows fitted.
	Windows int
	// PrecisionNS bounds the error of a predicted refresh instant over the
	// fitted windows when every window admits the fit (JitterNS 0);
	// otherwise it is the larger of half the windows' median width and
	// the least-squares error of the fitted instant at the latest window.
	PrecisionNS int64
	// JitterNS is how far the fitted instants fall outside their windows
	// at most: 0 for a strictly periodic driver.
	JitterNS int64
	// PeriodErrNS bounds the error of PeriodNS: a refresh m periods past
	// PhaseNS (the fitted instant of the latest window) is predicted to
	// within PrecisionNS + JitterNS + m·PeriodErrNS.
	PeriodErrNS int64
	// AtMostNS, when PeriodNS is 0 and windows were seen, is the median
	// spacing of changes: the counters refresh at least this often.
	AtMostNS int64
	// Confident is true when PeriodNS rests on at least MinWindows
	// windows, each narrower than half a period, with jitter under a
	// tenth of the period.
	Confident bool
}

// TooCoarse reports whether sampling every intervalNS is faster than the
// counter refreshes: some intervals then see no change, and a rate can be
// reported only over a whole refresh period. False when unknown.
func (e Estimate) TooCoarse(intervalNS int64) bool {
	return e.Confident && e.PeriodNS > intervalNS
}

// Predict returns the fitted refresh instant nearest t, and false when
// there is no confident estimate.
func (e Estimate) Predict(t int64) (int64, bool) {
	if !e.Confident || e.PeriodNS <= 0 {
		return 0, false
	}
	k := math.Round(float64(t-e.PhaseNS) / float64(e.PeriodNS))
	return e.PhaseNS + int64(k*float64(e.PeriodNS)), true
}

type window struct{ lo, hi int64 }

// Estimator fits the refresh clock of one interface. The zero value is
// ready with the default Config. It is not safe for concurrent use.
type Estimator struct {
	cfg Config
	// The windows, ascending, at most History. A bridge keeps one
	// Estimator per interface of every router (40,000 at 5,000 routers),
	// so a window takes 8 bytes, not 16:
	//   - its end as the gap since the previous window's end, exact in ns
	//     (hi[0] is first; a gap of farGap or more is kept in far, in
	//     order, and gaps holds farGap in its place);
	//   - its width as a float32 rounded up, which is exact below 16.7 ms
	//     and widens a 1 s window by at most 64 ns.
	first, last int64 // the ends of the oldest and the newest window
	gaps        []uint32
	far         []int64
	widths      []float32
	prevRead    int64
	est         Estimate
	dirty       bool
	// sinceFit counts windows added since the last fit.
	sinceFit int
	// afterGap counts down the windows after a long gap that are each
	// fitted at once (Config.RefitAfterGap).
	afterGap int
	// looked is set once Config.Shared was searched for the current
	// windows.
	looked bool
}

// refitEvery bounds the work: a fit pairs every window with every other
// (O(History²)), and a bridge keeps one Estimator per interface of every
// router; once the history holds enough windows, one new window moves the
// estimate little, so the fit is redone only after this many.
const refitEvery = 8

// longSpacing is the most periods between two windows that the median
// spacing counts; see fit.
const longSpacing = 8

// New returns an Estimator using cfg.
func New(cfg Config) *Estimator { return &Estimator{cfg: cfg} }

func (e *Estimator) history() int {
	if e.cfg.History <= 0 {
		return DefaultHistory
	}
	return e.cfg.History
}

func (e *Estimator) minWindows() int {
	if e.cfg.MinWindows <= 0 {
		return DefaultMinWindows
	}
	return max(e.cfg.MinWindows, 3)
}

// Observe records that a refresh happened in (unchangedNS, changedNS].
// Windows that are empty, out of order or overlap the previous one are
// ignored; an unknown unchangedNS (0) gives no window.
func (e *Estimator) Observe(unchangedNS, changedNS int64) {
	if unchangedNS <= 0 || changedNS <= unchangedNS {
		return
	}
	if len(e.gaps) > 0 && unchangedNS < e.last {
		if changedNS <= e.last {
			return // the same change, reported by another reply, or older
		}
		// A clock that went back (reboot) or a reordered window: start
		// over rather than fit across it.
		e.clear()
	}
	if p := e.est.PeriodNS; e.cfg.RefitAfterGap && p > 0 && len(e.gaps) > 0 {
		if changedNS-e.last > longSpacing*p {
			e.afterGap = refitEvery
		} else if changedNS-e.last > 2*p {
			e.sinceFit = refitEvery - 1 // fitted on the next Estimate
		}
	}
	e.push(unchangedNS, changedNS)
	e.dirty, e.looked = true, false
	e.sinceFit++
	if e.afterGap > 0 {
		e.afterGap--
		e.sinceFit = refitEvery
	}
}

// farGap is the escape in Estimator.gaps: gaps this long or longer (idle
// for 4.3 s or more) are kept in Estimator.far.
const farGap = math.MaxUint32

// push appends the window (lo, hi], dropping the oldest when the history
// is full. hi is after the newest window's end.
func (e *Estimator) push(lo, hi int64) {
	if n := len(e.gaps); n > 0 && n == e.history() {
		e.dropOldest()
	}
	w := float32(hi - lo)
	if int64(w) < hi-lo {
		w = math.Nextafter32(w, math.MaxFloat32)
	}
	switch g := hi - e.last; {
	case len(e.gaps) == 0:
		e.first = hi
		e.gaps = append(e.gaps, 0)
	case g >= farGap:
		e.far = append(e.far, g)
		e.gaps = append(e.gaps, farGap)
	default:
		e.gaps = append(e.gaps, uint32(g))
	}
	e.widths = append(e.widths, w)
	e.last = hi
}

func (e *Estimator) dropOldest() {
	n := len(e.gaps)
	if n > 1 {
		g := int64(e.gaps[1])
		if e.gaps[1] == farGap {
			g = e.far[0]
			e.far = e.far[:copy(e.far, e.far[1:])]
		}
		e.first += g
	}
	copy(e.gaps, e.gaps[1:])
	copy(e.widths, e.widths[1:])
	e.gaps, e.widths = e.gaps[:n-1], e.widths[:n-1]
	if n > 1 {
		e.gaps[0] = 0
	}
}

func (e *Estimator) clear() {
	e.gaps, e.far, e.widths = e.gaps[:0], e.far[:0], e.widths[:0]
	e.first, e.last = 0, 0
}

// windows returns the history as windows, oldest first.
func (e *Estimator) windows() []window {
	ws := make([]window, len(e.gaps))
	hi, far := e.first, e.far
	floor := int64(1)
	for i, g := range e.gaps {
		switch {
		case i == 0:
		case g == farGap:
			hi += far[0]
			far = far[1:]
		default:
			hi += int64(g)
		}
		// A width rounded up to float32 may reach past 0 or into the
		// window before, where the observed one began within a float32
		// step of it (windows wider than 16.8 ms; the fuzzer's): it then
		// begins there, which still holds the window observed and which
		// Restore accepts.
		ws[i] = window{max(hi-int64(e.widths[i]), floor), hi}
		floor = hi
	}
	return ws
}

// ObserveRead is the input without watch mode: one call per read of the
// interface, with moved true when any counter differs from the previous
// read. A moved read closes the window the previous read opened.
func (e *Estimator) ObserveRead(monoNS int64, moved bool) {
	if moved && e.prevRead > 0 {
		e.Observe(e.prevRead, monoNS)
	}
	// A clock that went back (a reboot) makes the next window empty,
	// which Observe ignores.
	e.prevRead = monoNS
}

// Reset forgets every window, e.g. after a reboot or a re-created
// interface.
func (e *Estimator) Reset() {
	e.clear()
	e.prevRead = 0
	e.est = Estimate{}
	e.dirty, e.looked = false, false
	e.sinceFit, e.afterGap = 0, 0
}

// Estimate returns the fit over the current windows.
func (e *Estimator) Estimate() Estimate {
	if !e.dirty {
		return e.est
	}
	if sh := e.cfg.Shared; sh != nil && !e.looked {
		e.looked = true
		if est, ok := sh.find(e); ok {
			e.est, e.dirty, e.sinceFit = est, false, 0
			return e.est
		}
	}
	if len(e.gaps) < 2*e.minWindows() || e.sinceFit >= refitEvery {
		e.est = fit(e.windows(), e.minWindows())
		e.dirty, e.sinceFit = false, 0
		if sh := e.cfg.Shared; sh != nil {
			sh.keep(e, e.est)
		}
	}
	return e.est
}

// Refine narrows (unchangedNS, changedNS] to the predicted refresh instant
// ± its uncertainty (PrecisionNS + JitterNS), and returns the window
// unchanged when there is no confident estimate or the prediction falls
// outside it.
func (e *Estimator) Refine(unchangedNS, changedNS int64) (int64, int64) {
	est := e.Estimate()
	if changedNS <= unchangedNS || unchangedNS <= 0 {
		return unchangedNS, changedNS
	}
	if !est.Confident || est.PeriodNS <= 0 {
		return unchangedNS, changedNS
	}
	m := max(est.PrecisionNS+est.JitterNS, 1)
	// The values first seen at changedNS are those of the LATEST refresh
	// at or before it. A window can hold two refreshes when the watch
	// read came late (a loaded router): the nearest to the middle would
	// then be the wrong one, off by a whole period.
	k := math.Floor(float64(changedNS+m-est.PhaseNS) / float64(est.PeriodNS))
	t := est.PhaseNS + int64(k*float64(est.PeriodNS))
	lo, hi := max(unchangedNS, t-m), min(changedNS, t+m)
	if lo >= hi {
		return unchangedNS, changedNS
	}
	return lo, hi
}

// fit computes the Estimate of ws (ascending).
func fit(ws []window, minWindows int) Estimate {
	n := len(ws)
	est := Estimate{Windows: n}
	if n < 2 {
		return est
	}
	// The spacings and widths are whole ns, and their medians are
	// taken in integers: a router without an FPU compares float64 in
	// software, a few hundred instructions each.
	m := make([]float64, n) // midpoints relative to the first
	widths := make([]float64, n)
	tmp := make([]int64, n)
	base := ws[0].lo + (ws[0].hi-ws[0].lo)/2
	for i, w := range ws {
		m[i] = float64(w.lo + (w.hi-w.lo)/2 - base)
		widths[i] = float64(w.hi - w.lo)
		tmp[i] = w.hi - w.lo
	}
	mw := median(tmp)
	d := make([]float64, n-1)
	adjacent := 0
	for i := range d {
		mid := func(w window) int64 { return w.lo + (w.hi-w.lo)/2 }
		tmp[i] = mid(ws[i+1]) - mid(ws[i])
		d[i] = float64(tmp[i])
		if ws[i+1].lo == ws[i].hi {
			adjacent++
		}
	}
	p0 := median(tmp[:n-1])
	// Counters that changed at every read: the reads, not the driver,
	// set the spacing.
	if 2*adjacent > len(d) || mw > p0/2 || p0 <= 0 {
		est.AtMostNS = int64(p0)
		return est
	}
	// Missed refreshes make some spacings 2P, 3P: count periods per
	// spacing, then the mean period over them. A long spacing (the
	// agent's watch or the bridge was away, a fit restored after a
	// restart) multiplies the error of the period it is counted with: a
	// median spacing off by 2 % miscounts 25 periods, so those are
	// counted only with the mean period of the short ones, whose error
	// is a window's width over their whole span.
	k := make([]float64, n)
	sumD, sumN, whole := periods(d, p0)
	if 10*whole < 9*len(d) {
		// The median may be a multiple of the period (basePeriod).
		// Checked in the same pass: each division costs a router
		// without an FPU.
		if q := basePeriod(d, p0); q != p0 {
			p0 = q
			sumD, sumN, _ = periods(d, p0)
		}
	}
	p1 := p0
	if sumN > 0 {
		p1 = sumD / sumN
	}
	inv := 1 / p1
	for i, di := range d { // again with the better period
		k[i+1] = k[i] + atLeast1(math.Round(di*inv))
	}
	// Least squares m = φ + P·k, each midpoint weighted by its
	// precision: a 60 ms window (a change first seen by a request) says
	// 3,600 times less than a probe's 1 ms one.
	wt := make([]float64, n)
	var mk, mm, sw float64
	for i := range n {
		wt[i] = 1 / ((widths[i] + 1e5) * (widths[i] + 1e5))
		sw += wt[i]
		mk += wt[i] * k[i]
		mm += wt[i] * m[i]
	}
	mk /= sw
	mm /= sw
	var sxy, sxx float64
	for i := range n {
		sxy += wt[i] * (k[i] - mk) * (m[i] - mm)
		sxx += wt[i] * (k[i] - mk) * (k[i] - mk)
	}
	if sxx == 0 {
		return est
	}
	p := sxy / sxx
	phi := mm - p*mk
	// A strictly periodic driver: every window must hold φ + k·P. The
	// pairs bound P, then the windows bound φ; both far tighter than the
	// least-squares fit of midpoints.
	//
	// But a few windows of a driver whose timer is late by up to a few
	// ms admit a strict clock too, one whose period is off by a fraction
	// of the jitter per period: 7 windows of a 0.9765 s driver up to 2 ms
	// late gave a period 460 µs short, claimed to 270 µs, and the idle
	// refreshes predicted 8 periods on fell outside their bands. So the
	// pairs' bound on P counts for no less than the least-squares slope's
	// standard error, which the jitter widens, times 3 + 6/(n-2): about
	// Student's t at 99.5 % for the few windows of a new fit.
	// The same goes for the line's value at the latest window, where
	// predictions start: its standard error grows with that window's
	// distance from the windows' weighted mean. Right after a stretch
	// without windows (an idle interface) the latest few lie far from
	// the many before it, and their fitted instant was 1.2 ms off a
	// 0.5 s driver's (2 ms jitter) where the windows' widths claimed
	// 0.56 ms: a band that narrowed a probe's window missed its refresh.
	slopeErr, phaseErr := 0.0, 0.0
	if n > 2 {
		ss := 0.0
		for i := range n {
			r := m[i] - (phi + k[i]*p)
			ss += wt[i] * r * r
		}
		dof := float64(n - 2)
		t := 3 + 6/dof
		slopeErr = t * math.Sqrt(ss/dof/sxx)
		dk := k[n-1] - mk
		phaseErr = t * math.Sqrt(ss/dof*(1/sw+dk*dk/sxx))
	}
	lo := func(i int) float64 { return float64(ws[i].lo - base) }
	hi := func(i int) float64 { return float64(ws[i].hi - base) }
	ks := make([]int64, n)
	for i := range n {
		ks[i] = int64(k[i])
	}
	pLo, pHi := periodBounds(ws, ks)
	precision, jitter, periodErr := 0.0, 0.0, 0.0
	if pLo <= pHi {
		periodErr = (pHi - pLo) / 2
		// The instants the feasible (P, φ) allow at the last index, over
		// a grid of the feasible periods: its centre is the phase, its
		// half-width the precision of a prediction near the last window.
		kl := k[n-1]
		tLo, tHi := instantRange(ws, ks, base, pLo, pHi)
		if tLo <= tHi {
			p = (pLo + pHi) / 2
			phi = (tLo+tHi)/2 - kl*p
			precision = max((tHi-tLo)/2, 1)
		}
	}
	if precision == 0 {
		for i := range n {
			t := phi + k[i]*p
			if j := lo(i) - t; j > jitter {
				jitter = j
			}
			if j := t - hi(i); j > jitter {
				jitter = j
			}
		}
		precision = mw / 2
		periodErr = 2 * (precision + jitter) / max(k[n-1], 1)
		precision = max(precision, phaseErr)
	}
	periodErr = max(periodErr, slopeErr)
	est.PeriodNS = int64(math.Round(p))
	// The phase nearest the latest window keeps Predict exact far from
	// the first one.
	est.PhaseNS = base + int64(math.Round(phi+k[n-1]*p))
	est.PrecisionNS = int64(math.Ceil(precision))
	est.JitterNS = int64(math.Ceil(jitter))
	est.PeriodErrNS = int64(math.Ceil(periodErr))
	est.Confident = n >= minWindows && mw <= p/2 && jitter <= p/10
	return est
}

// periodBounds returns the periods that a strictly periodic clock with a
// refresh in every window ws[i] at index ks[i] (ascending) allows: the
// largest (lo_j - hi_i)/(k_j - k_i) and the smallest (hi_j - lo_i)/(k_j
// - k_i) over the pairs; pLo > pHi when none does.
//
// A router without an FPU runs this O(n²) loop in software: a float64
// division there is about 4,000 instructions (a 64-bit integer division
// inside) and a multiplication about 100, where a 64-bit integer
// multiplication is a few. So the fractions are compared by
// cross-multiplying integers, and divided once; in float64 only where
// the products could overflow (windows spanning hours).
func periodBounds(ws []window, ks []int64) (pLo, pHi float64) {
	n := len(ws)
	span, kmax := ws[n-1].hi-ws[0].lo, ks[n-1]-ks[0]
	if span < 0 || kmax <= 0 || span >= math.MaxInt64/4/kmax {
		return periodBoundsFloat(ws, ks)
	}
	var loN, loD, hiN, hiD int64
	for i := range n {
		for j := i + 1; j < n; j++ {
			dk := ks[j] - ks[i]
			a, b := ws[j].lo-ws[i].hi, ws[j].hi-ws[i].lo
			if loD == 0 || a*loD > loN*dk {
				loN, loD = a, dk
			}
			if hiD == 0 || b*hiD < hiN*dk {
				hiN, hiD = b, dk
			}
		}
	}
	return float64(loN) / float64(loD), float64(hiN) / float64(hiD)
}

// periodBoundsFloat is periodBounds in float64.
func periodBoundsFloat(ws []window, ks []int64) (pLo, pHi float64) {
	loN, loD, hiN, hiD := math.Inf(-1), 1.0, math.Inf(1), 1.0
	for i := range ws {
		for j := i + 1; j < len(ws); j++ {
			dk := float64(ks[j] - ks[i])
			if a := float64(ws[j].lo - ws[i].hi); a*loD > loN*dk {
				loN, loD = a, dk
			}
			if b := float64(ws[j].hi - ws[i].lo); b*hiD < hiN*dk {
				hiN, hiD = b, dk
			}
		}
	}
	return loN / loD, hiN / hiD
}

// gridSteps is how many steps the feasible periods are tried in.
const gridSteps = 32

// instantRange returns the instants (relative to base) at the latest
// window's index that the strict clocks through every window allow, with
// periods on a grid of [pLo, pHi]: the lowest and the highest, tLo > tHi
// when none is found. Integer arithmetic as in periodBounds, each period
// in fixed point (1/1024 ns); float64 where that could overflow.
func instantRange(ws []window, ks []int64, base int64, pLo, pHi float64) (tLo, tHi float64) {
	n := len(ws)
	const q = 1024
	kl := ks[n-1]
	if kmax := kl - ks[0]; kmax <= 0 || max(math.Abs(pLo), math.Abs(pHi))*q >= float64(math.MaxInt64/4/kmax) ||
		max(abs64(ws[0].lo-base), abs64(ws[n-1].hi-base)) >= math.MaxInt64/4/q {
		return instantRangeFloat(ws, ks, base, pLo, pHi)
	}
	// A period rounded to the fixed point moves an instant k periods on
	// by up to k/2 units: at the grid's ends, where pLo and pHi make a
	// window's bound tight, that must not pass for infeasible.
	tol := (kl-ks[0])/2 + 1
	iLo, iHi := int64(math.MaxInt64), int64(math.MinInt64)
	for g := range gridSteps + 1 {
		pg := int64(math.Round((pLo + (pHi-pLo)*float64(g)*(1.0/gridSteps)) * q))
		fLo, fHi := int64(math.MinInt64), int64(math.MaxInt64)
		for i, w := range ws {
			d := (kl - ks[i]) * pg
			fLo = max(fLo, (w.lo-base)*q+d)
			fHi = min(fHi, (w.hi-base)*q+d)
		}
		if fLo <= fHi+tol {
			iLo, iHi = min(iLo, fLo), max(iHi, fHi)
		}
	}
	if iLo > iHi {
		return math.Inf(1), math.Inf(-1)
	}
	return float64(iLo) / q, float64(iHi) / q
}

// instantRangeFloat is instantRange in float64.
func instantRangeFloat(ws []window, ks []int64, base int64, pLo, pHi float64) (tLo, tHi float64) {
	kl := ks[len(ws)-1]
	tol := float64((kl-ks[0])/2+1) / 1024 // as instantRange's
	tLo, tHi = math.Inf(1), math.Inf(-1)
	for g := range gridSteps + 1 {
		pg := pLo + (pHi-pLo)*float64(g)*(1.0/gridSteps)
		fLo, fHi := math.Inf(-1), math.Inf(1)
		for i, w := range ws {
			d := float64(kl-ks[i]) * pg
			fLo = max(fLo, float64(w.lo-base)+d)
			fHi = min(fHi, float64(w.hi-base)+d)
		}
		if fLo <= fHi+tol {
			tLo, tHi = min(tLo, fLo), max(tHi, fHi)
		}
	}
	return tLo, tHi
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// periods counts the periods of p in each spacing of d: the spacings of
// at most longSpacing periods and their periods summed, and how many
// spacings lie within an eighth of a period of a multiple of p.
func periods(d []float64, p float64) (sumD, sumN float64, whole int) {
	inv := 1 / p
	for _, di := range d {
		f := di * inv
		if c := atLeast1(math.Round(f)); c <= longSpacing {
			sumD += di
			sumN += c
		}
		if f >= 0.5 && math.Abs(f-math.Round(f)) <= 1.0/8 {
			whole++
		}
	}
	return sumD, sumN, whole
}

// basePeriod returns the period that the spacings d between windows are
// whole multiples of, given their median p0. The median is the period
// while most windows are one period apart; where more than half are two
// or more apart (an agent whose probes saw only some changes, the rest
// first seen by requests, whose wide windows it does not feed), p0 is a
// multiple of it, and counting the single spacings as one period of p0
// made the period their mean: 1.45 s for a 1 s driver, 0.73 s for a
// 0.5 s one, and the fit no longer confident (the matrix, 2026-12-06).
// The largest p0/k (k up to 4) that 9 in 10 spacings of at most
// longSpacing periods are within an eighth of a period of a multiple of
// is taken, or the shortest spacing where that is larger: windows that
// come in pairs a period apart every few periods (an agent over its CPU
// budget probes two refreshes in four or in eight) put the median
// between the two spacings, and its thirds (0.49 s for a 0.98 s driver
// whose spacings were 1 and 2 periods) fit every spacing too. p0 where
// none does.
func basePeriod(d []float64, p0 float64) float64 {
	valid := func(q float64) bool {
		inv := 1 / q
		n, whole := 0, 0
		for _, di := range d {
			if di > longSpacing*q {
				continue
			}
			n++
			if f := di * inv; f >= 0.5 && math.Abs(f-math.Round(f)) <= 1.0/8 {
				whole++
			}
		}
		return n > 0 && 10*whole >= 9*n
	}
	best := 0.0
	for k := 1.0; k <= 4; k++ {
		if q := p0 / k; valid(q) {
			best = q
			break
		}
	}
	if dmin := slices.Min(d); dmin > best && dmin > 0 && valid(dmin) {
		best = dmin
	}
	if best == 0 {
		return p0
	}
	return best
}

// median sorts v and returns its median.
func median(v []int64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return float64(v[len(v)/2])
	}
	return (float64(v[len(v)/2-1]) + float64(v[len(v)/2])) / 2
}

// atLeast1 is max(1, x) for a number (not NaN) in one comparison: the
// builtin max of float64 checks for NaN and signed zeros, a dozen
// comparisons in software on a router without an FPU.
func atLeast1(x float64) float64 {
	if x < 1 {
		return 1
	}
	return x
}
