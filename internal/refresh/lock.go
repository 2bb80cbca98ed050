package refresh

import (
	"math"
	"slices"
)

// Defaults for the zero fields of LockConfig.
const (
	DefaultLockHistory = 128
	DefaultMinReads    = 24
	DefaultMaxJitterNS = 6_000_000
	DefaultMaxPeriodNS = 5_000_000_000
	DefaultSafetyNS    = 3_000_000
)

// LockConfig tunes a Lock; the zero value uses the defaults.
type LockConfig struct {
	// History is how many reads are kept to acquire a lock; if zero,
	// DefaultLockHistory.
	History int
	// MinReads is the fewest consecutive reads with traffic a lock is
	// acquired from; if zero, DefaultMinReads.
	MinReads int
	// MaxJitterNS is the largest spread of the refresh instants around the
	// fitted clock that is still a periodic driver; if zero,
	// DefaultMaxJitterNS.
	MaxJitterNS int64
	// MaxPeriodNS is the longest refresh period looked for: counters that
	// stand still longer while traffic flowed before and after are taken
	// as idle, not stale. If zero, DefaultMaxPeriodNS.
	MaxPeriodNS int64
	// SafetyNS widens the fit's error when deciding on which side of a
	// predicted refresh a read fell; if zero, DefaultSafetyNS.
	SafetyNS int64
}

func (c LockConfig) history() int       { return orInt(c.History, DefaultLockHistory) }
func (c LockConfig) minReads() int      { return max(orInt(c.MinReads, DefaultMinReads), 8) }
func (c LockConfig) maxJitter() float64 { return float64(orInt64(c.MaxJitterNS, DefaultMaxJitterNS)) }
func (c LockConfig) maxPeriod() int64   { return orInt64(c.MaxPeriodNS, DefaultMaxPeriodNS) }
func (c LockConfig) safety() float64    { return float64(orInt64(c.SafetyNS, DefaultSafetyNS)) }

func orInt(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

func orInt64(v, d int64) int64 {
	if v <= 0 {
		return d
	}
	return v
}

// Window is what a Lock says about one read. The zero value means that
// nothing is known: the rate is then taken over the read span.
type Window struct {
	// UnchangedNS and ChangedNS bracket the predicted refresh that the
	// read's values are current as of; their midpoint is that instant.
	// Both 0 when not Predicted.
	UnchangedNS, ChangedNS int64
	// Predicted is set when the window comes from a confident lock.
	Predicted bool
	// Unsure is set when the read lies within the fit's error of a
	// predicted refresh and its delta did not settle which side, or when
	// its delta contradicts the lock: the read is to close no interval.
	Unsure bool
	// Live is set when at least two predicted refreshes fell since the
	// counters last moved: unchanged counters are a true zero.
	Live bool
	// Rebase is set on the first window of a new lock whose clock does
	// not continue the previous one (or of the first lock): the interval
	// that ends here began on another clock, or on none, and has no exact
	// span.
	Rebase bool
}

// Where the reads drift across the refreshes they pin the period: within
// ±maxPeriodError (relative) the middle of the feasible range is used.
// Where they keep a steady offset from the refreshes (a period that is a
// simple ratio of the interval) they bound it only loosely: up to
// ±maxRegularError, their average spacing per refresh (least squares of
// the counts on the read times) is used, within the feasible range.
const (
	maxPeriodError  = 0.001
	maxRegularError = 0.025
)

// looseMinReads/2 is the fewest reads a steady-offset lock rests on: a
// driver whose refreshes wander at random (0.9 to 1.1 s) also shows one
// refresh per 1 s read for a while, until its drift brings a refresh
// across a read.
const looseMinReads = DefaultMinReads

// maxUnsureRun is how many unsure reads in a row drop a lock: its chain of
// counts is lost, and a new acquisition is cheaper than gaps.
const maxUnsureRun = 4

// refitEveryReads is how often a lock is fitted again from the reads with
// known counts.
const refitEveryReads = 16

// nGrid is the number of periods sampled across the feasible range.
const nGrid = 9

// fitPoint is a read whose count of refreshes is known: it saw refresh c
// (the latest at or before t) and not c+1.
type fitPoint struct {
	t     int64
	c     int64
	first bool // the first read that saw refresh c (its counters moved)
}

type gridPoint struct{ p, lo, hi float64 }

// lockFit is the fitted refresh clock: refresh c falls at
// tRef + psi + (c-cRef)·p, known to the hull of grid.
type lockFit struct {
	tRef, cRef int64
	p, psi     float64
	jitter     float64
	grid       [nGrid + 1]gridPoint
}

func (f *lockFit) center(c int64) float64 { return f.psi + float64(c-f.cRef)*f.p }

func (f *lockFit) earliest(c int64) float64 {
	v := math.Inf(1)
	for _, g := range f.grid {
		v = min(v, g.lo+float64(c-f.cRef)*g.p)
	}
	return v
}

func (f *lockFit) latest(c int64) float64 {
	v := math.Inf(-1)
	for _, g := range f.grid {
		v = max(v, g.hi+float64(c-f.cRef)*g.p)
	}
	return v
}

type lockRead struct {
	t     int64
	d     float64 // traffic since the previous read; -1 unknown
	moved bool
	known bool  // c is known
	c     int64 // the latest refresh the read saw
}

// Lock finds a driver's refresh clock from the reads alone, without the
// agent's watch mode, and predicts for every read the refresh its values
// are current as of (see the package doc). One Lock per interface; the
// zero value is ready with the default LockConfig. It is not safe for
// concurrent use.
type Lock struct {
	cfg LockConfig

	hist  []lockRead // the latest reads, at most History
	prevT int64
	since int // reads since the last acquisition attempt or fit
	fails int // failed acquisitions in a row

	locked bool
	fit    lockFit
	// regular: the reads the lock was acquired from saw a repeating
	// pattern of refreshes (a steady offset), see fitLock.
	regular bool

	// The chain: the last read whose count is known and the traffic since.
	cKnown     int64
	dSince     float64
	lastMoved  bool // the previous read's counters moved
	lastMovedT int64
	unsureRun  int // unsure reads in a row
	repC       int64
	rep        float64 // reported instant of refresh repC, relative to fit.tRef
	vals       [4]float64
	nVals      int
	suspicious [16]bool // the verdicts of the latest moved reads
	nSus       int

	// The last reported refresh instant and the read it was reported for.
	lastAt, lastAtRead int64

	scratch fitScratch
}

// NewLock returns a Lock using cfg.
func NewLock(cfg LockConfig) *Lock { return &Lock{cfg: cfg} }

// Reset forgets everything, e.g. after a reboot or a re-created interface.
func (l *Lock) Reset() {
	*l = Lock{cfg: l.cfg, hist: l.hist[:0], scratch: l.scratch}
}

// Locked reports whether the Lock predicts refreshes.
func (l *Lock) Locked() bool { return l.locked }

// Period returns the fitted refresh period in ns and the spread of the
// refresh instants around the fitted clock; 0, 0 when not locked.
func (l *Lock) Period() (periodNS, jitterNS int64) {
	if !l.locked {
		return 0, 0
	}
	return int64(math.Round(l.fit.p)), int64(math.Ceil(l.fit.jitter))
}

// Read takes one read of the interface at monoNS, with the traffic since
// the previous read (the sum of the byte counters' deltas, any unit; 0
// when they did not move), and returns what the lock says about it. A
// clock that goes back resets the Lock.
func (l *Lock) Read(monoNS int64, delta uint64) Window {
	if l.prevT != 0 && monoNS <= l.prevT {
		l.Reset()
	}
	first := l.prevT == 0
	l.prevT = monoNS
	r := lockRead{t: monoNS, d: float64(delta), moved: delta > 0}
	if first {
		r.d, r.moved = -1, false
	}
	// Of a run of reads that saw the same values only the first and the
	// last bound the refresh clock: a read in between is dropped, which
	// keeps a long history at sub-second sampling.
	if n := len(l.hist); n >= 2 && !r.moved && !l.hist[n-1].moved && l.hist[n-1].d >= 0 && !l.locked {
		l.hist = l.hist[:n-1]
	}
	if len(l.hist) == l.cfg.history() {
		copy(l.hist, l.hist[1:])
		l.hist = l.hist[:len(l.hist)-1]
	}
	l.hist = append(l.hist, r)
	if first {
		return Window{}
	}
	l.since++
	if r.moved {
		l.lastMovedT = r.t
	}
	if l.locked {
		n := len(l.hist)
		w := l.predict(&l.hist[n-1])
		if h := l.hist; n >= 3 && !h[n-1].moved && !h[n-2].moved && (!h[n-1].known && !h[n-2].known ||
			h[n-1].known && h[n-2].known && h[n-3].known && h[n-1].c == h[n-2].c && h[n-2].c == h[n-3].c) {
			h[n-2] = h[n-1]
			l.hist = h[:n-1]
		}
		l.lastMoved = r.moved
		if l.locked && l.since >= refitEveryReads {
			l.since = 0
			l.refit()
		}
		return w
	}
	l.lastMoved = r.moved
	// Before a lock: under steady traffic, a delta about twice its
	// neighbours' holds two refreshes (the read span would show twice
	// the rate): a gap rather than a spike.
	guard := false
	if r.moved {
		if q, steady := l.quantum(); steady && math.Abs(r.d/q/2-1) < 0.15 {
			guard = true
		} else {
			l.pushVal(r.d)
		}
	}
	// Try every 4 reads, backing off to every 16 while it fails (a
	// driver without a period, or traffic too uneven to count by).
	every := 4 << min(l.fails/8, 2)
	if r.moved && len(l.hist) >= l.cfg.minReads() && l.since >= every {
		l.since = 0
		if l.acquire() {
			l.fails = 0
			rebase := !l.continueClock()
			w := l.report(l.cKnown, monoNS)
			w.Rebase = rebase && w.Predicted
			return w
		}
		l.fails++
	}
	return Window{Unsure: guard}
}

// report returns the window of refresh c for a read at t, and moves the
// reported clock toward the fit by at most maxNudge.
func (l *Lock) report(c int64, t int64) Window {
	f := &l.fit
	r := l.rep + float64(c-l.repC)*f.p
	rebase := false
	if safety := l.cfg.safety(); r < f.earliest(c)-safety || r > f.latest(c)+safety {
		// A refit moved the clock beyond what nudging follows: start the
		// reported clock anew (the interval ending here spans two).
		r, rebase = f.center(c), true
	} else {
		const maxNudge = 200_000 // ns per read: 0.02 % of a 1 s span
		r += max(-maxNudge, min(maxNudge, f.center(c)-r))
	}
	l.rep, l.repC = r, c
	at := f.tRef + int64(math.Round(r))
	w := min(1_000_000, (t-at)/2, at-1)
	if at >= t || at <= 0 || w < 1 {
		if l.unsureRun++; l.unsureRun >= maxUnsureRun {
			l.unlock()
		}
		return Window{Unsure: true}
	}
	l.lastAt, l.lastAtRead = at, t
	return Window{UnchangedNS: at - w, ChangedNS: at + w, Predicted: true, Rebase: rebase}
}

// continueClock makes a new lock report the instant it reported last for
// the same read, when the new fit allows it, so that the reported clock
// continues; false when it cannot.
func (l *Lock) continueClock() bool {
	if l.lastAt == 0 {
		return false // the first lock: the interval before had no clock
	}
	for i := len(l.hist) - 1; i >= 0; i-- {
		h := l.hist[i]
		if h.t < l.lastAtRead {
			break
		}
		if h.t != l.lastAtRead || !h.known {
			continue
		}
		f := &l.fit
		at := float64(l.lastAt - f.tRef)
		if at < f.earliest(h.c)-l.cfg.safety() || at > f.latest(h.c)+l.cfg.safety() {
			return false
		}
		l.rep, l.repC = at, h.c
		return true
	}
	return false
}

// predict handles a read while locked and records its count when known.
func (l *Lock) predict(r *lockRead) Window {
	f := &l.fit
	x := float64(r.t - f.tRef)
	// The jitter seen so far is a lower bound of the driver's.
	safety := l.cfg.safety() + f.jitter/2
	cc := f.cRef + int64(math.Floor((x-f.psi)/f.p))
	seen := func(c int64) bool { return f.latest(c)+safety < x }
	notSeen := func(c int64) bool { return f.earliest(c)-safety > x }
	// The counts the fit allows: refresh c possibly at or before the read,
	// refresh c+1 possibly after it. Counts never go down.
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for c := max(cc-2, l.cKnown); c <= cc+2; c++ {
		if !notSeen(c) && !seen(c+1) {
			lo, hi = min(lo, c), max(hi, c)
		}
	}
	if lo > hi {
		if cc+2 < l.cKnown {
			return l.contradiction()
		}
		return l.unsure(r)
	}
	d := l.dSince + r.d
	q, steady := l.quantum()
	c := lo
	if hi > lo {
		// The delta decides: moved means at least one refresh; under
		// steady traffic, the multiple of the traffic per refresh.
		settled := false
		if d > 0 && lo == l.cKnown {
			lo++
		}
		switch {
		case lo == hi:
			c, settled = lo, true
		case r.d == 0:
			// Still while traffic flows: no refresh yet. Still while
			// idle: the refresh instant does not matter, as long as the
			// earlier is claimed (no traffic flowed since it).
			c, settled = lo, true
		case d > 0 && q > 0 && steady:
			best, bestErr, nextErr := int64(-1), math.Inf(1), math.Inf(1)
			for m := lo; m <= hi; m++ {
				e := math.Abs(d/q/float64(m-l.cKnown) - 1)
				switch {
				case e < bestErr:
					nextErr, bestErr, best = bestErr, e, m
				case e < nextErr:
					nextErr = e
				}
			}
			if bestErr < 0.15 && nextErr > 0.25 {
				c, settled = best, true
			}
		}
		if !settled {
			return l.unsure(r)
		}
	}
	n := c - l.cKnown
	if n == 0 && d > 0 {
		return l.contradiction()
	}
	r.c, r.known = c, true
	l.unsureRun = 0
	var w Window
	switch {
	case d > 0:
		sus := false
		if q > 0 && steady && hi == lo {
			if x := d / q / float64(n); math.Abs(x-1) > 0.3 {
				for _, m := range []int64{n - 1, n + 1} {
					if m >= 1 && math.Abs(d/q/float64(m)-1) < 0.12 {
						sus = true
					}
				}
			}
		}
		l.pushVal(d / float64(n))
		if l.noteSuspicious(sus) {
			l.unlock()
			return Window{Unsure: true}
		}
		l.cKnown, l.dSince = c, 0
		if sus {
			r.known = false
			return Window{Unsure: true}
		}
		w = l.report(c, r.t)
	case l.lastMoved && n < 2:
		// Unchanged after traffic: a missed refresh, or the traffic
		// stopped. The next change tells; keep counting from the last.
		w = l.report(c, r.t)
		l.dSince = 0
		r.known = false
	default:
		w = l.report(c, r.t)
		w.Live = n >= 2
		l.cKnown, l.dSince = c, 0
		// Idle: the read says nothing about the refresh clock.
		r.known = n == 0 && !hasTwo(hi, lo)
	}
	return w
}

func hasTwo(hi, lo int64) bool { return hi > lo }

// unsure ends a read whose count is not known: the chain keeps counting
// from the last known read.
func (l *Lock) unsure(r *lockRead) Window {
	l.dSince += r.d
	if l.unsureRun++; l.unsureRun >= maxUnsureRun {
		l.unlock()
	}
	return Window{Unsure: true}
}

// contradiction ends the lock: the counters moved where no refresh was
// predicted.
func (l *Lock) contradiction() Window {
	l.unlock()
	return Window{Unsure: true}
}

func (l *Lock) unlock() {
	l.locked = false
	l.unsureRun = 0
	l.nVals = 0
	l.nSus = 0
	l.suspicious = [16]bool{}
	// Acquire again at the next change; the fit rejects a history that
	// mixes two clocks, and acquire then tries its latest part.
	l.since = 4
	l.fails = 0
}

func (l *Lock) pushVal(v float64) {
	copy(l.vals[1:], l.vals[:len(l.vals)-1])
	l.vals[0] = v
	l.nVals = min(l.nVals+1, len(l.vals))
}

// quantum returns the median traffic per refresh of the latest moved
// reads, and whether they agree within ±15 %.
func (l *Lock) quantum() (float64, bool) {
	if l.nVals < len(l.vals) {
		return 0, false
	}
	v := l.vals
	slices.Sort(v[:])
	q := (v[1] + v[2]) / 2
	return q, v[0] > 0 && v[3] <= 1.35*v[0]
}

// noteSuspicious records the verdict on a moved read and reports whether
// 3 of the latest 16 looked like another count of refreshes than the lock
// predicted: the lock is then to be dropped.
func (l *Lock) noteSuspicious(s bool) bool {
	old := l.suspicious[0]
	copy(l.suspicious[:], l.suspicious[1:])
	l.suspicious[len(l.suspicious)-1] = s
	if old {
		l.nSus--
	}
	if s {
		l.nSus++
	}
	return l.nSus >= 3
}

// refit fits the lock again over the reads with known counts; a history
// that needs more jitter than allowed drops the lock.
func (l *Lock) refit() {
	pts := l.scratch.points(l.hist, 0)
	f, ok := fitLock(pts, l.regular, l.cfg.maxJitter(), &l.scratch)
	if !ok {
		l.unlock()
		return
	}
	// Keep the reported clock continuous across the refit.
	l.rep += float64(l.fit.tRef - f.tRef)
	l.fit = f
}

// acquire tries to lock from the reads in hist: it counts the refreshes
// per interval from the deltas, then fits.
func (l *Lock) acquire() bool {
	h := l.hist
	end := len(h) - 1
	// The segment: back from the newest read to a stillness longer than
	// MaxPeriodNS (idle, not stale) or the oldest read.
	start := end
	for start > 0 && h[start].d >= 0 {
		if h[start].moved {
			start--
			continue
		}
		j := start // h[j+1 .. start] stood still
		for j > 0 && !h[j].moved && h[j].d >= 0 {
			j--
		}
		if !h[j].moved || h[start+1].t-h[j].t > l.cfg.maxPeriod() {
			start++ // idle: start after it
			break
		}
		start = j
	}
	// The first read of the segment is refresh 0; after idle, it must be
	// a change (the first interval of a burst is partial).
	for start < end && !h[start].moved && h[start].d >= 0 {
		start++
	}
	for i := range h {
		h[i].known = false
	}
	seg := h[start : end+1]
	for len(seg) >= l.cfg.minReads() {
		if countRefreshes(seg) {
			pts := l.scratch.points(seg, 0)
			reg := regular(seg)
			if f, ok := fitLock(pts, reg, l.cfg.maxJitter(), &l.scratch); ok {
				l.regular = reg
				l.locked = true
				l.fit = f
				l.cKnown, l.dSince = f.cRef, 0
				l.repC, l.rep = f.cRef, f.psi
				l.nVals, l.nSus, l.suspicious = 0, 0, [16]bool{}
				for i := len(seg) - 1; i > 0 && l.nVals < len(l.vals); i-- {
					if n := seg[i].c - seg[i-1].c; n > 0 && seg[i].moved {
						l.pushVal(seg[i].d / float64(n))
					}
				}
				l.since = 0
				return true
			}
		}
		for i := range seg {
			seg[i].known = false
		}
		seg = seg[len(seg)/4:]
	}
	return false
}

// countRefreshes sets, per read of seg, the count of refreshes it saw
// since the first, from the deltas: each delta against the median of its
// neighbours is a whole number of refreshes (0 for a stale read), with
// m = 1, 2 or 3 refreshes per typical interval. False when the deltas are
// too uneven to count by.
func countRefreshes(seg []lockRead) bool {
	var buf [9]float64
	// ref returns the median of the moved deltas around i (up to 4 on each
	// side).
	ref := func(i int) float64 {
		n := 0
		buf[n] = seg[i].d
		n++
		for j, k := i-1, 0; j > 0 && k < 4; j-- {
			if seg[j].moved {
				buf[n] = seg[j].d
				n++
				k++
			}
		}
		for j, k := i+1, 0; j < len(seg) && k < 4; j++ {
			if seg[j].moved {
				buf[n] = seg[j].d
				n++
				k++
			}
		}
		s := buf[:n]
		slices.Sort(s)
		return s[n/2]
	}
	moved := 0
	for i := 1; i < len(seg); i++ {
		if seg[i].moved {
			moved++
		}
	}
	if moved < 4 {
		return false
	}
next:
	for m := 1.0; m <= 3; m++ {
		c := int64(0)
		seg[0].c, seg[0].known = 0, true
		for i := 1; i < len(seg); i++ {
			if seg[i].moved {
				x := seg[i].d * m / ref(i)
				n := math.Round(x)
				if n < 1 || math.Abs(x-n) > 0.2 {
					continue next
				}
				c += int64(n)
			}
			seg[i].c, seg[i].known = c, true
		}
		return true
	}
	return false
}

// regular reports whether the refreshes per interval of the reads (all
// with known counts) repeat with a short period: the reads keep a steady
// offset from the refreshes.
func regular(rs []lockRead) bool {
	var ns [64]int64
	n := 0
	for i := len(rs) - 1; i > 0 && n < len(ns); i-- {
		ns[n] = rs[i].c - rs[i-1].c
		n++
	}
	if n < 16 {
		return false
	}
	for m := 1; m <= 8; m++ {
		ok := true
		for i := m; i < n && ok; i++ {
			ok = ns[i] == ns[i-m]
		}
		if ok {
			return true
		}
	}
	return false
}

// fitScratch holds the buffers of a fit, reused across fits.
type fitScratch struct {
	pts        []fitPoint
	upper, low []hullPoint
}

type hullPoint struct{ k, x float64 }

// points returns the reads of rs with known counts.
func (s *fitScratch) points(rs []lockRead, _ int) []fitPoint {
	s.pts = s.pts[:0]
	for _, r := range rs {
		if r.known {
			s.pts = append(s.pts, fitPoint{r.t, r.c, r.moved})
		}
	}
	return s.pts
}

// fitLock fits refresh instants φ + c·P to reads that each saw refresh c
// and not c+1: every read bounds the refresh clock on both sides, so the
// feasible (P, φ) form a convex region; the period minimising the
// violation is found by ternary search over the two hulls that bound it,
// and the region (widened by the jitter that the reads prove) bounds
// every prediction. False when the reads need more than maxJitter of
// jitter, are too few, or leave the period too loose (see
// maxPeriodError).
func fitLock(pts []fitPoint, loose bool, maxJitter float64, s *fitScratch) (lockFit, bool) {
	n := len(pts)
	if n < 8 {
		return lockFit{}, false
	}
	last := pts[n-1]
	dc := last.c - pts[0].c
	if dc < 4 {
		return lockFit{}, false
	}
	// L(P) = max(x - (k+1)P) over reads before a refresh, U(P) =
	// min(x - kP) over reads after one: refresh cRef lies in (L, U]. Only
	// the upper hull of (k+1, x) and the lower hull of (k, x) matter.
	s.upper, s.low = s.upper[:0], s.low[:0]
	for _, p := range pts {
		k, x := float64(p.c-last.c), float64(p.t-last.t)
		s.upper = pushHull(s.upper, hullPoint{k + 1, x}, true)
		s.low = pushHull(s.low, hullPoint{k, x}, false)
	}
	lu := func(p float64) (lo, hi float64) {
		lo, hi = math.Inf(-1), math.Inf(1)
		for _, h := range s.upper {
			lo = max(lo, h.x-h.k*p)
		}
		for _, h := range s.low {
			hi = min(hi, h.x-h.k*p)
		}
		return lo, hi
	}
	g := func(p float64) float64 { lo, hi := lu(p); return lo - hi }
	p0 := float64(last.t-pts[0].t) / float64(dc)
	bLo, bHi := p0*(1-2/float64(dc)), p0*(1+2/float64(dc))
	a, b := bLo, bHi
	for range 70 {
		m1, m2 := a+(b-a)/3, b-(b-a)/3
		if g(m1) <= g(m2) {
			b = m2
		} else {
			a = m1
		}
	}
	pStar := (a + b) / 2
	jitter := max(g(pStar), 0)
	if jitter > maxJitter || pStar <= 0 || jitter > pStar/10 {
		return lockFit{}, false
	}
	const eps = 100_000 // 0.1 ms
	G := jitter + eps
	edge := func(in, out float64) float64 { // g(in) <= G < g(out)
		for range 50 {
			m := (in + out) / 2
			if g(m) <= G {
				in = m
			} else {
				out = m
			}
		}
		return in
	}
	pa, pb := edge(pStar, bLo), edge(pStar, bHi)
	p := (pa + pb) / 2
	if pb-pa > 2*maxPeriodError*pStar {
		// Reads at a steady offset from the refreshes bound the period
		// only loosely: their average spacing per refresh is used.
		if !loose || n < 2*looseMinReads || pb-pa > 2*maxRegularError*pStar {
			return lockFit{}, false
		}
		// Least squares of the times on the counts of the reads that
		// first saw each refresh: with a steady offset, their offsets
		// from the refreshes repeat, so the slope is the period.
		var mk, mx, m float64
		for _, pt := range pts {
			if pt.first {
				mk += float64(pt.c - last.c)
				mx += float64(pt.t - last.t)
				m++
			}
		}
		if m >= 4 {
			mk /= m
			mx /= m
			var sxy, sxx float64
			for _, pt := range pts {
				if pt.first {
					k, x := float64(pt.c-last.c)-mk, float64(pt.t-last.t)-mx
					sxy += k * x
					sxx += k * k
				}
			}
			if sxx > 0 {
				p = max(pa, min(pb, sxy/sxx))
			}
		}
	}
	f := lockFit{tRef: last.t, cRef: last.c, p: p, jitter: jitter}
	lo, hi := lu(p)
	f.psi = (lo + hi) / 2
	f.grid[nGrid] = gridPoint{p, lo - G/2, hi + G/2}
	for i := range nGrid {
		pg := pa + (pb-pa)*float64(i)/float64(nGrid-1)
		lo, hi := lu(pg)
		if lo-hi > G { // numerically outside: use the estimate's
			f.grid[i] = f.grid[nGrid]
			continue
		}
		f.grid[i] = gridPoint{pg, lo - G/2, hi + G/2}
	}
	return f, true
}

// pushHull adds h (k non-decreasing) to an upper (or lower) convex hull.
func pushHull(hull []hullPoint, h hullPoint, upper bool) []hullPoint {
	if n := len(hull); n > 0 && hull[n-1].k == h.k {
		if upper == (h.x <= hull[n-1].x) {
			return hull
		}
		hull = hull[:n-1]
	}
	for len(hull) >= 2 {
		a, b := hull[len(hull)-2], hull[len(hull)-1]
		cross := (b.k-a.k)*(h.x-a.x) - (b.x-a.x)*(h.k-a.k)
		if upper && cross < 0 || !upper && cross > 0 {
			break
		}
		hull = hull[:len(hull)-1]
	}
	return append(hull, h)
}
