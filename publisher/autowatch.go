package publisher

import (
	"fmt"
	"math"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/refresh"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// The adaptive watch (IFSTAT_WATCH=auto). A driver that refreshes its
// counters on a timer does so at k·P + φ on the same clock as mono_ns.
// Reading every 10 ms for a few seconds finds P and φ; after that a few
// reads a millisecond apart around each predicted refresh pin it, which
// costs a router a handful of reads per refresh instead of 50–100 reads a
// second. Counters that change at every read (software devices, drivers
// that fetch on read) need no watch at all: every read is current.
const (
	// probeStep is the spacing of the reads around a predicted refresh:
	// the width of the change window they give.
	probeStep = time.Millisecond
	// minMargin and maxMargin bound how far before a predicted refresh
	// the probing starts (and after it, ends): the fit's error plus the
	// driver's jitter plus a millisecond.
	minMargin = 2 * time.Millisecond
	maxMargin = 20 * time.Millisecond
	// startBurst is how long the agent reads every MinWatch after it
	// starts, to see which interfaces carry traffic.
	startBurst = 2 * time.Second
	// acquireFor bounds one burst spent fitting an interface; a driver
	// that shows no period by then is left to the bridge's rules, and
	// tried again after a backoff.
	acquireFor   = 20 * time.Second
	firstBackoff = time.Minute
	maxBackoff   = 30 * time.Minute
	// activeFor: an interface whose counters changed this recently
	// carries traffic and is worth watching.
	activeFor = 5 * time.Second
	// liveRun consecutive reads, each within liveGap of the one before,
	// that all saw new values make an interface live.
	liveRun = 10
	liveGap = 2*MinWatch + 5*time.Millisecond
	// liveRecheck: a live interface is looked at again this often, in
	// case its driver was switched to periodic (ethtool -C at run time).
	liveRecheck = 5 * time.Minute
	// minPeriod: a driver refreshing faster than this is treated as live.
	minPeriod = 50 * time.Millisecond
	// fitWindow is the widest change window the fit takes: wider ones
	// (a request after an idle stretch) say little about the clock.
	fitWindow = 60 * time.Millisecond
	// idleSleep is the longest the watch sleeps: how long a newly busy
	// interface may wait for its burst.
	idleSleep = 3 * time.Second
	// A change away from every predicted refresh puts the fit in doubt
	// (see autoState.doubt); doubtWrong such changes drop it, doubtAgree
	// in a row that agree with it restore it.
	doubtWrong = 2
	doubtAgree = 2
	// refitWatch is the spacing of the burst that checks a fit in doubt
	// or finds it again (see autoState.doubt), until the new fit has two
	// windows to probe around (guidedProbe): a quarter of MinWatch,
	// because the replies claim those first windows as they are, and the
	// bridge takes their midpoints. It costs a second or two of 400
	// reads a second each time a driver's refresh is late or its clock
	// changes; once guided, the burst slows to MinWatch, a net against a
	// wrong guess.
	refitWatch = MinWatch / 4
	// claimWindow is the widest window of reads alone (no fit narrowing
	// it) that a reply claims while the fit is in doubt or being found
	// again: twice the fine burst's spacing, room for a read that ran a
	// little late. Its midpoint is off by at most half of it, so a 1 s
	// sample between two such windows is off by at most 0.5 %; a wider
	// one (the slowed burst's, a request after a stretch without reads)
	// is a gap, not a guess.
	claimWindow = MinWatch / 2
	// idleRefreshes is how many predicted refreshes must pass without a
	// change before unchanged counters are a true zero: a driver that
	// skips a refresh now and then (1 %) skips two in a row once in
	// 10,000 refreshes, a few hours of a 2 s driver, and the next change
	// then shows three periods of traffic after a claimed zero.
	idleRefreshes = 3
	// agentMinWindows is how many narrow windows make a fit: the burst
	// gives windows MinWatch wide, four refreshes pin P to a few ms,
	// and every probe after that tightens it.
	agentMinWindows = 4
	// agentHistory is how many windows the agent's fit keeps. The fit
	// pairs every window with every other, in float64, which a router
	// without an FPU emulates: under qemu-mipsel (softfloat) a window
	// cost 0.66-0.72 ms with the bridge's 64, eleven reads' worth, and
	// 0.18-0.22 ms with 32 (BenchmarkObserveEstimateHistory). The
	// simulations barely move at 32 (3 % more watch reads); at 16 (0.06
	// ms) the margins widen and a few windows miss their refresh.
	agentHistory = 32
	// rateChanges is how many placed changes the traffic's rate is taken
	// over, for deltaFits: a rate between two changes a second apart is
	// off by their claims' error, a few ms in 1 s (0.2-0.4 %), most of
	// the 0.5 % it allows.
	rateChanges = 8
	// rateAgree is how far the rate between the two latest placed
	// changes may be off the longer one before the traffic counts as
	// changed and the rate starts over from those two.
	rateAgree = 0.01
)

type ifaceClass uint8

const (
	classUnknown  ifaceClass = iota // not fitted: replies carry no window
	classLive                       // current at every read
	classPeriodic                   // refreshes at k·P + φ
)

// autoState is what the adaptive watch knows about one interface beyond
// its watchState.
type autoState struct {
	cfg refresh.Config // of fit and refit
	// step is the spacing of the watch's probes (0: probeStep), which
	// the agent may widen over its CPU budget (see probing).
	step  int64
	fit   *refresh.Estimator
	class ifaceClass
	// run counts consecutive quick reads that saw new values.
	run int
	// acqSince is when the current burst for this interface began; 0
	// when none is running.
	acqSince     int64
	backoff      time.Duration
	backoffUntil int64
	recheckAt    int64
	// doubt is set by a change the fit did not predict (a driver
	// reloaded, ethtool -C at run time, or a refresh later than the fit
	// allows): from then on the replies claim only the reads' own narrow
	// windows, no narrowed window and no true zero, and the watch bursts
	// so that refit, fed every narrow window since, can replace the fit.
	// wrong counts the changes against the fit since the doubt arose,
	// agree the changes in a row that agree with it.
	doubt     bool
	wrong     int
	agree     int
	refit     *refresh.Estimator
	refitting bool // the fit was dropped: claim narrow windows until a new one is found
	// (refLo, refHi] holds the refresh the current values are current
	// as of: the last change, or a refresh that changed nothing.
	// refStart is when the read that saw the change began (0 for a
	// refresh that changed nothing).
	refLo, refHi, refStart int64
	// The claim for the change at refHi, decided when it was seen
	// (decide): the window, or why none. claimFor is the refHi it was
	// decided for.
	claimLo, claimHi, claimFor int64
	claimWhy                   withheld
	// placed holds the latest changes placed on a predicted refresh
	// (their claimed windows' midpoints) and the bytes, received and
	// sent, they brought the counters to, oldest first, while the
	// traffic between them kept one rate; perNS is that rate, in bytes
	// per ns (0: unknown). A change that its reads cannot place may be
	// placed by its delta (deltaFits).
	placed []placedChange
	perNS  float64
	// news are the changes of class since the log last took them: a
	// change lost and a clock found in the same read are both told.
	news []string
}

// maxNews bounds the changes kept for the log between two drains.
const maxNews = 4

// probeStep is the spacing of the probes this interface's windows come
// from.
func (s *autoState) probeStep() int64 {
	if s.step > 0 {
		return s.step
	}
	return int64(probeStep)
}

// tell records a change of class for the log.
func (s *autoState) tell(what string) {
	if len(s.news) < maxNews {
		s.news = append(s.news, what)
	}
}

// newAutoState returns the state of a new interface, whose fits share
// with the other interfaces' through sh (nil: none).
func newAutoState(sh *refresh.Shared) *autoState {
	s := &autoState{cfg: refresh.Config{MinWindows: agentMinWindows, History: agentHistory, RefitAfterGap: true, Shared: sh}}
	s.fit = refresh.New(s.cfg)
	return s
}

// reset forgets the fit: a reset counter or a re-created interface may
// be a new driver, and the old clock says nothing about it.
func (s *autoState) reset() {
	s.fit.Reset()
	s.forgetTraffic()
	s.class, s.run = classUnknown, 0
	s.refLo, s.refHi, s.refStart, s.acqSince = 0, 0, 0, 0
	s.clearDoubt()
	s.refitting = false
}

// placedChange is a change placed on a predicted refresh: the instant
// its claim holds, and the bytes it brought the counters to.
type placedChange struct {
	at    int64
	bytes uint64
}

// forgetTraffic drops what deltaFits knows: the clock it was placed on is
// in doubt, or gone.
func (s *autoState) forgetTraffic() {
	s.placed, s.perNS, s.claimFor = s.placed[:0], 0, 0
}

func (s *autoState) clearDoubt() {
	s.doubt, s.wrong, s.agree, s.refit = false, 0, 0, nil
}

// margin is how far around the predicted refresh near t the watch
// probes: the fit's error there (which grows with the periods since its
// latest window) and a millisecond.
func margin(est refresh.Estimate, t int64) int64 {
	d := est.PrecisionNS + est.JitterNS + int64(time.Millisecond)
	if est.PeriodNS > 0 && t > est.PhaseNS {
		d += est.PeriodErrNS * (floorDiv(t-est.PhaseNS, est.PeriodNS) + 1)
	}
	return min(max(d, int64(minMargin)), int64(maxMargin))
}

// observe updates the adaptive state of st with a read that ended at mono
// and saw c, the same values as st.c if same. It runs before st's own
// fields move: st.last is the read before, and a change happened after
// st.lastStart.
func (s *autoState) observe(st *watchState, start, mono int64, c wire.Counters, same bool) {
	prevRead := st.lastStart
	if same {
		s.run = 0
		if s.class != classPeriodic || st.first == 0 {
			return
		}
		// Refreshes that fell since the values first appeared changed
		// nothing. The first may be one the driver skipped; from the
		// second on, the interface is idle and its values are current
		// as of the latest refresh: a true zero.
		// Only refreshes well before this read began count (twice the
		// margin: a refresh late beyond one margin, after one the driver
		// skipped, must not pass for an idle one), and none while the
		// fit has just been contradicted.
		est := s.fit.Estimate()
		m := margin(est, start)
		idle := bracketed(est, st.first, start-m)
		if s.doubt && start-st.first > int64(activeFor) && idle > idleRefreshes {
			// No traffic since the change that put the fit in doubt:
			// nothing confirms or replaces it until traffic returns,
			// and meanwhile every reply claimed that change's window,
			// no newer. The bridge then rated still reads over their
			// read spans: zeros, even where traffic had begun and a
			// slow driver had not shown it yet (a 2 s driver in the
			// matrix: two samples 100 % off, 43 s after the doubt).
			// Most doubts are a refresh later than the fit allowed;
			// the fit is kept, and the next change checks it as any.
			s.clearDoubt()
			s.tell("refresh clock kept: no traffic since the doubt")
		}
		if !s.doubt && idle >= idleRefreshes {
			if t, ok := latestRefresh(est, start-2*m); ok {
				s.refLo, s.refHi, s.refStart = max(st.first, t-m), min(start, t+m), 0
			}
		}
		return
	}
	if countersDecreased(&st.c, &c) || st.c.Ifindex != c.Ifindex {
		if s.class != classUnknown {
			s.tell("counters reset: finding the refresh clock again")
		}
		s.reset()
		return
	}
	if mono-prevRead <= int64(liveGap) {
		s.run++
	} else {
		s.run = 1
	}
	feed := mono-prevRead <= int64(fitWindow)
	if s.class == classPeriodic {
		feed = s.check(st, prevRead, mono) && feed
	}
	if feed {
		s.fit.Observe(prevRead, mono)
	}
	s.refLo, s.refHi, s.refStart = prevRead, mono, start
	if s.class == classPeriodic && !s.doubt {
		s.decide(c.RxBytes + c.TxBytes)
	}
	if s.class != classUnknown {
		return
	}
	if s.run >= liveRun {
		s.tell("counters current at every read")
		s.class, s.recheckAt = classLive, mono+int64(liveRecheck)
		s.fit.Reset()
		s.acqSince, s.backoff, s.refitting = 0, 0, false
		return
	}
	if est := s.fit.Estimate(); est.Confident && est.PrecisionNS+est.JitterNS <= int64(maxMargin)/2 {
		s.class, s.refitting = classPeriodic, false
		s.tell("refresh clock found")
		if est.PeriodNS < int64(minPeriod) {
			s.class, s.recheckAt = classLive, mono+int64(liveRecheck)
		}
		s.acqSince, s.backoff = 0, 0
	}
}

// check judges a change seen in (prevRead, mono] against the fit of a
// periodic interface, and reports whether the window may refine it. The
// change must have come from a predicted refresh t newer than the one
// the previous values came from (which lies before st.first, so within a
// margin of it), within the margin of t: (prevRead, mono] has to meet
// (t-m, t+m). A window wider than the band proves nothing for the fit,
// and only narrow windows that agree with it refine it.
//
// The first change against the fit puts it in doubt at once: a fit that
// predicted wrongly once may predict wrongly again, and a window
// narrowed by it, or a zero claimed on its refreshes, would be a guess.
// The doubt ends after doubtAgree agreeing changes in a row (a refresh
// that was late beyond the fit's jitter), or the fit is replaced after
// doubtWrong changes against it (a new clock), by the refit that has
// taken every narrow window since the doubt arose.
func (s *autoState) check(st *watchState, prevRead, mono int64) bool {
	est := s.fit.Estimate()
	m := margin(est, mono)
	narrow := mono-prevRead <= 2*m+s.probeStep()
	t, _ := latestRefresh(est, mono+m)
	agrees := t > st.first+m && t+m > prevRead && t-m < mono
	if s.doubt && mono-prevRead <= int64(fitWindow) {
		s.refit.Observe(prevRead, mono)
	}
	switch {
	case !agrees:
		if !s.doubt {
			s.doubt, s.wrong, s.agree = true, 0, 0
			s.forgetTraffic()
			s.refit = refresh.New(s.cfg)
			if mono-prevRead <= int64(fitWindow) {
				s.refit.Observe(prevRead, mono)
			}
			s.tell("refresh clock in doubt: a change away from the predicted refreshes")
		}
		s.wrong++
		s.agree = 0
		if s.wrong >= doubtWrong {
			// A new clock: its windows since the doubt arose are the
			// start of the new fit.
			s.tell("refresh clock lost: changes away from the predicted refreshes")
			s.fit, s.refit = s.refit, nil
			s.class, s.run, s.refitting = classUnknown, 0, true
			s.clearDoubt()
		}
		return false
	case !narrow:
		return false
	case s.doubt:
		s.agree++
		if s.agree >= doubtAgree {
			s.tell("refresh clock confirmed")
			s.clearDoubt()
		}
	}
	return true
}

// annotate sets the window of the refresh the values read at mono are
// current as of: the latest change or confirmed idle refresh of a
// periodic driver, narrowed by the fit; the read itself for live
// counters; nothing while the interface is not fitted. It returns why a
// window was withheld where the fit holds.
func (s *autoState) annotate(mono int64, c *wire.Counters) withheld {
	switch s.class {
	case classLive:
		c.UnchangedNS, c.ChangedNS = mono-1, mono
	case classUnknown:
		// The fit was dropped or is in doubt (below): the reads' own
		// window holds the refresh for certain, and a narrow one
		// (the burst's) places it well enough.
		if s.refitting && s.refLo > 0 && s.refLo < s.refHi && s.refHi-s.refLo <= int64(claimWindow) {
			c.UnchangedNS, c.ChangedNS = s.refLo, s.refHi
		}
	case classPeriodic:
		if s.refLo <= 0 || s.refLo >= s.refHi {
			return placed
		}
		if s.doubt {
			if s.refHi-s.refLo <= int64(claimWindow) {
				c.UnchangedNS, c.ChangedNS = s.refLo, s.refHi
			}
			return placed
		}
		if s.refStart > 0 && s.claimFor == s.refHi {
			// A change, placed (or not) when it was seen.
			c.RefreshNS = s.fit.Estimate().PeriodNS
			c.UnchangedNS, c.ChangedNS = s.claimLo, s.claimHi
			return s.claimWhy
		}
		lo, hi, p, why := s.claim(c.RxBytes + c.TxBytes)
		c.RefreshNS, c.UnchangedNS, c.ChangedNS = p, lo, hi
		return why
	}
	return placed
}

// claim returns the window the replies claim for the values a periodic
// interface last took, with the fit's period, or no window and why.
//
// The reads' window holds the refresh for certain. Where the fit's band
// around the predicted refresh is narrower (a change first seen by a
// request after an idle stretch, an idle refresh between two requests, a
// probe that ran late), the part of the window inside the band holds it
// too: the band is the fit's error plus a millisecond wide on each side.
// Where the reads cannot tell whether the predicted refresh made the
// values (unplaceable), their delta may: see deltaFits.
func (s *autoState) claim(bytes uint64) (lo, hi, p int64, why withheld) {
	lo, hi = s.refLo, s.refHi
	est := s.fit.Estimate()
	m := margin(est, s.refHi)
	t, ok := latestRefresh(est, s.refHi+m)
	if !ok {
		return lo, hi, est.PeriodNS, placed
	}
	if why = s.unplaceable(t, m, est.PeriodNS); why != placed {
		if why == afterStretch || !s.deltaFits(t, est.PeriodNS, bytes) {
			return 0, 0, est.PeriodNS, why
		}
		// The delta says the predicted refresh made the values: the
		// band holds it. (The delta places the refresh only to 0.5 %
		// of the span, 5 ms in a second: a band widened by that much
		// put the claim's middle up to 5 ms off the refresh, 0.46-0.51 %
		// where every late first probe was withheld. Nor is the instant
		// the delta implies a claim: traffic that stopped 5 ms before
		// the refresh implies an instant 5 ms early.)
	}
	if l, h := max(lo, t-m), min(hi, t+m); l < h {
		lo, hi = l, h
	}
	return lo, hi, est.PeriodNS, placed
}

// decide places the change just seen (its values bring the bytes
// received and sent to bytes) once, so that every reply until the next
// change claims the same, and notes a placed change for deltaFits.
func (s *autoState) decide(bytes uint64) {
	lo, hi, p, why := s.claim(bytes)
	s.claimLo, s.claimHi, s.claimWhy, s.claimFor = lo, hi, why, s.refHi
	if why != placed || lo >= hi {
		return
	}
	s.notePlaced(placedChange{at: lo + (hi-lo)/2, bytes: bytes}, p)
}

// notePlaced adds c to the placed changes and takes the traffic's rate
// over them. Changes more than 2.5 periods apart (refreshes missed, or
// claimed without a window between) or bytes that did not grow start
// over; so does a rate between the two latest that is off the longer
// one by more than rateAgree (the traffic changed: a step, a burst).
func (s *autoState) notePlaced(c placedChange, p int64) {
	n := len(s.placed)
	if n == 0 || c.at <= s.placed[n-1].at || 2*(c.at-s.placed[n-1].at) > 5*p || c.bytes <= s.placed[n-1].bytes {
		s.placed, s.perNS = append(s.placed[:0], c), 0
		return
	}
	last := s.placed[n-1]
	if r := float64(c.bytes-last.bytes) / float64(c.at-last.at); s.perNS > 0 && math.Abs(r/s.perNS-1) > rateAgree {
		s.placed = append(s.placed[:0], last)
	}
	if len(s.placed) == rateChanges {
		s.placed = append(s.placed[:0], s.placed[1:]...)
	}
	s.placed = append(s.placed, c)
	first := s.placed[0]
	s.perNS = float64(c.bytes-first.bytes) / float64(c.at-first.at)
}

// deltaFits reports whether the values that brought the bytes received
// and sent to bytes were made by the predicted refresh t: the bytes since
// the last placed change are what the traffic's rate (perNS) predicts
// for t, to 0.5 %. A refresh more or fewer changes them by a whole
// period's worth; one a tenth of a period early (a new clock's first) by
// a tenth, and one early by less than 0.5 % of the span is within what a
// claim may be off. Traffic that changed its rate (a burst's start or
// end, a step) does not fit, and the reply stays without a window.
func (s *autoState) deltaFits(t, p int64, bytes uint64) bool {
	n := len(s.placed)
	if s.perNS <= 0 || n == 0 {
		return false
	}
	last := s.placed[n-1]
	if t <= last.at || 2*(t-last.at) > 5*p || bytes <= last.bytes {
		return false
	}
	want := s.perNS * float64(t-last.at)
	return math.Abs(float64(bytes-last.bytes)-want) <= 0.005*want
}

// unplaceable reports whether the change last seen cannot be placed on
// the predicted refresh t (band ±m, period p); refresh_ns without a
// window then says so, and the bridge holds the reply until the next
// window. Four cases:
//
//   - the read that saw the change began within t's band, and the
//     refresh before t came after the last read that missed it (a
//     request after a stretch without probes): either refresh may have
//     made the values (claiming t was 25 or 75 Mbit/s for 50 at a
//     burst's start);
//   - that read and the one before it both began before t's band: the
//     values may have been made before it, by a refresh the fit did not
//     predict (a new clock's first, 0.2-0.4 s early in the matrix:
//     20-70 % off where t was claimed). Nor is it evidence against the
//     fit: the first probe for t begins before the band and sees a
//     refresh early in it the same way;
//   - the same with the read that saw it begun late, within the band,
//     and the read before well before the band: the first probe, run
//     late on a busy machine, saw a new clock's refresh 25 ms, 36 ms or
//     0.12 s before the band (2.6 %, 3.6 % and 14 % off in the matrix,
//     2026-12-06; the 3.6 % one began 1-2 ms into the band, past the
//     first probe step this case once stopped at). Where the read
//     before was a probe (at most two steps before the band), no
//     refresh the fit missed hides in between;
//   - the last read that missed the change began within the band's last
//     probe step and the one that saw it after the band: the window
//     meets the band only there, where the fit's error ends, and the
//     refresh most likely came after it (a new clock's first, 48 ms
//     late in the matrix: claimed in the band's last 0.1 ms, 4.8 % off,
//     2026-12-06). Nor does it count against the fit: a refresh late by
//     a fraction of a millisecond looks the same.
//
// All but the first hold back many replies on a busy machine (95 in
// 4 min of 20 agents in the matrix for the third): claim places them
// after all where their delta fits the traffic (deltaFits).
func (s *autoState) unplaceable(t, m, p int64) withheld {
	step := s.probeStep()
	switch {
	case s.refStart <= 0:
		return placed // an idle refresh the agent predicted itself
	case s.refStart < t+m && t-p+m > s.refLo:
		return afterStretch
	case s.refStart <= t-m && s.refLo < t-m:
		return beforeBand
	case s.refStart < t+m && s.refLo < t-m-2*step:
		return lateProbe
	case s.refLo >= t+m-step && s.refStart >= t+m:
		return afterBand
	}
	return placed
}

// withheld says why a reply claims no window although the fit holds (the
// cases of unplaceable), for the agent's stop line.
type withheld uint8

const (
	placed       withheld = iota
	afterStretch          // a read in the band after a stretch without reads
	beforeBand            // the read began before the band
	lateProbe             // the first read in the band saw it, and none just before the band
	afterBand             // the last read that missed began in the band's last step
	numWithheld
)

// latestRefresh returns the latest predicted refresh at or before t.
func latestRefresh(est refresh.Estimate, t int64) (int64, bool) {
	if !est.Confident || est.PeriodNS <= 0 {
		return 0, false
	}
	k := floorDiv(t-est.PhaseNS, est.PeriodNS)
	return est.PhaseNS + k*est.PeriodNS, true
}

// bracketed counts the predicted refreshes that lie in (lo, hi] with the
// fit's margin to spare on both sides.
func bracketed(est refresh.Estimate, lo, hi int64) int {
	m := margin(est, hi)
	last, ok := latestRefresh(est, hi-m)
	if !ok || last-m <= lo {
		return 0
	}
	return int(floorDiv(last-m-lo-1, est.PeriodNS)) + 1
}

// spread returns the fractional part of k·0.618… (the golden ratio's
// inverse, a sequence whose values spread evenly over [0, 1) for any run
// of k) times span, which must be below 2³². In integers: the router's
// CPU has no FPU, and math.Mod in software cost 26 % of the watch's
// instructions under qemu-mipsel (BenchmarkWatchClocks).
func spread(k, span int64) int64 {
	f := uint64(k) * 0x9E3779B97F4A7C15 // frac(k·0.618…)·2⁶⁴, for negative k too
	return int64((f >> 32) * uint64(span) >> 32)
}

// floorDiv is a/b rounded down. A router's 32-bit CPU divides 64-bit
// integers in software, bit by bit (runtime.int64div: several hundred
// instructions); the quotients here are mostly a few periods (an instant
// near the fit's latest refresh), which subtraction finds in a few steps.
func floorDiv(a, b int64) int64 {
	if b > 0 && b < 1<<58 && a >= -b && a < 8*b {
		q := int64(-1)
		for a += b; a >= b; a -= b {
			q++
		}
		return q
	}
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// nextRead returns when (mono ns) the adaptive watch reads next, given
// that it just read at now.
func (w *watcher) nextRead(now int64) int64 {
	if now-w.start < int64(startBurst) {
		return now + int64(MinWatch)
	}
	next := now + int64(idleSleep)
	// refit: some interface's fit is in doubt or being found again;
	// guided: every such interface's new fit has a refresh to probe at.
	burst, refit, guided := false, false, true
	for _, st := range w.ifaces {
		s := st.auto
		if s.class == classLive && now >= s.recheckAt {
			s.class, s.run = classUnknown, 0
		}
		if s.class == classPeriodic {
			est := s.fit.Estimate()
			if !est.Confident {
				// Found again like a clock lost to a change: the
				// replies claim the reads' narrow windows meanwhile.
				s.class, s.refitting = classUnknown, true
				s.clearDoubt()
				s.tell(fmt.Sprintf("refresh clock lost: the fit over %d windows is no longer confident", est.Windows))
			} else if st.first != 0 && now-st.first <= 2*est.PeriodNS+int64(maxMargin) {
				thin, step := probing(est, w.thin, s.doubt)
				s.step = step
				next = min(next, probeAt(est, st.first, st.lastStart, now, thin, step))
			}
			// A fit in doubt is checked, and a new one found, by a
			// burst while the interface carries traffic.
			if s.doubt && st.first != 0 && now-st.first <= int64(activeFor) {
				burst, refit = true, true
				g := guidedProbe(s.refit, st.first, st.lastStart, now)
				next, guided = min(next, g), guided && g != math.MaxInt64
			}
		}
		if s.class != classUnknown || now < s.backoffUntil {
			continue
		}
		if st.first == 0 || now-st.first > int64(activeFor) {
			// Only time with traffic counts against a burst.
			s.acqSince = 0
			continue
		}
		if s.acqSince == 0 {
			s.acqSince = now
		}
		if now-s.acqSince > int64(acquireFor) {
			s.backoff = min(max(2*s.backoff, firstBackoff), maxBackoff)
			s.backoffUntil, s.acqSince = now+int64(s.backoff), 0
			s.refitting = false
			s.tell("no refresh clock found: replies carry no refresh window")
			continue
		}
		burst = true
		if s.refitting {
			g := guidedProbe(s.fit, st.first, st.lastStart, now)
			next, refit, guided = min(next, g), true, guided && g != math.MaxInt64
		}
	}
	if burst {
		// Spacing the burst's reads unevenly (0.75–1.25 MinWatch) puts
		// each refresh at a different place in its window, so that the
		// windows' errors average out in the fit.
		// The probes of a fit in doubt still run: their narrow windows
		// tell whether the changes agree with it.
		w.bursts++
		every := int64(MinWatch)
		if refit && !guided {
			every = int64(refitWatch)
		}
		return min(next, now+every*3/4+spread(int64(w.bursts), every/2))
	}
	return max(next, now+int64(probeStep)/2)
}

// bandErrNS is the fit's error (PrecisionNS + JitterNS) above which an
// interface over the CPU budget has its probes spaced wider rather than
// thinned: an unprobed refresh's claim is off by up to that much, a
// probe 2 ms apart's by up to 1 ms. (The jitter alone flips: a fit of
// windows 2 ms wide often admits a strict clock, jitter 0, and moves
// the driver's lateness into its precision; in the simulation a driver
// up to 2 ms late was fitted at 0.26-1.04 ms of jitter and 0.73-1.05 ms
// of precision, one on time at 0 and 0.15-0.34 ms.)
const bandErrNS = time.Millisecond

// probing returns how the watch probes the refreshes of a periodic
// interface whose fit is est, with the agent's CPU budget at thin (1:
// within it; 2, 4 or maxThin over it): 1 in thin of the refreshes
// (probeAt), step apart.
//
// A refresh that is not probed is claimed in the fit's band, centred on
// the predicted instant. For a driver that refreshes on time that is
// nearly exact (the simulation's 0.9765 s driver: samples at most
// 0.068 % off probing every refresh, 0.096 % probing half), but a driver
// whose timer is late by up to 4 ms has its refreshes anywhere in a
// 4 ms span, and the band's centre is up to 2 ms off: a 0.5 s driver
// sampled every 0.2 s, half its refreshes probed, was 0.87 % off
// (TestAutoWatchThin), and 0.574 % in the accuracy matrix, past the
// default's 0.5 %. So where the fit's error is over bandErrNS, the first step over the
// budget spaces every refresh's probes 2 ms apart instead (3.6-4.8
// reads per refresh instead of 4.9-7.0 for such drivers; windows of at
// most 2 ms, 0.37 % at 0.2 s), and each further step halves the
// refreshes probed as for the others. A doubt is checked with every
// refresh probed a millisecond apart.
func probing(est refresh.Estimate, thin int64, doubt bool) (int64, int64) {
	switch {
	case doubt || thin <= 1:
		return 1, int64(probeStep)
	case est.PrecisionNS+est.JitterNS > int64(bandErrNS):
		return thin / 2, 2 * int64(probeStep)
	}
	return thin, int64(probeStep)
}

// spaced counts the periodic interfaces whose probes the CPU budget
// spaces 2 ms apart rather than thins (see probing), for the log.
func (w *watcher) spaced() int {
	n := 0
	for _, st := range w.ifaces {
		if s := st.auto; s != nil && s.class == classPeriodic {
			if _, step := probing(s.fit.Estimate(), w.thin, s.doubt); step > int64(probeStep) {
				n++
			}
		}
	}
	return n
}

// guidedProbe returns the next probe read around the refresh that a new
// fit, not yet confident, predicts (math.MaxInt64 when it predicts none
// well enough). Two windows of the refit burst give a period to within
// their widths; probing a millisecond apart around the next refresh it
// predicts pins that refresh to a millisecond, where the burst alone
// leaves windows of 5-10 ms that the replies claim as they are (0.4-0.6 %
// of a 1 s sample at their midpoints). The burst goes on beside the
// probes, slowed to MinWatch, so a wrong guess (two windows a missed
// refresh apart) costs gaps where the slow burst's windows are too
// wide to claim, never a wrong window.
func guidedProbe(f *refresh.Estimator, first, lastStart, now int64) int64 {
	if f == nil {
		return math.MaxInt64
	}
	est := f.Estimate()
	if est.Windows < 2 || est.PeriodNS < int64(minPeriod) ||
		est.PrecisionNS+est.JitterNS+2*est.PeriodErrNS+int64(time.Millisecond) > int64(maxMargin) {
		return math.MaxInt64
	}
	return probeAt(est, first, lastStart, now, 1, int64(probeStep))
}

// probeAt returns the next probe read for a periodic interface whose
// values last changed at first, after a read that began at lastStart and
// ended at now: the first refresh whose change is not yet seen and whose
// probe window has not passed, probed from margin before it to margin
// after, probeStep apart.
//
// A read that ran past the next step (it began late, or took long) is
// followed at once, not at the step after: waiting for the grid would
// leave two steps between reads, and a window that wide, where the
// reads around a refresh are the whole point.
//
// The probes start at a different fraction of probeStep before each
// refresh (a golden-ratio sequence over the refresh index): on a fixed
// grid the refresh would sit at the same place in its window every time,
// the windows' midpoints would all be off the same way, and the fit,
// which places the grid, would follow them.
//
// With thin > 1 (the watch over its CPU budget) only two refreshes in a
// row of every 2·thin are probed (by their index on the mono clock).
// Each refresh in between gets one read just before its band, unless a
// read began there or later anyway: the change it then shows came after
// that read, so a read that sees it inside the band (a request, another
// clock's probe) is as good as a probe's, and a claim in the band is
// not a guess on the early side (without it, unplaceable withholds such
// a change: 23 replies in 90 s of eight clocks at thin 2). The last
// refresh before a probed one also gets a read half a period after it:
// its change must be seen before the probed one's band, or the band's
// first probe would see it and take it for the probed one's.
func probeAt(est refresh.Estimate, first, lastStart, now, thin, step int64) int64 {
	if step <= 0 {
		step = int64(probeStep)
	}
	p, d := est.PeriodNS, margin(est, now+est.PeriodNS)
	k := floorDiv(now-d-2*step-est.PhaseNS, p) + 1
	start := func(k int64) int64 { return est.PhaseNS + k*p - d - spread(k, step) }
	probed := func(int64) bool { return true }
	if thin > 1 {
		// Two refreshes in a row in every 2·thin: windows only thin
		// periods apart would fit thin·P as well as P.
		base, n := floorDiv(est.PhaseNS+p/2, p), 2*thin
		probed = func(k int64) bool { return ((base+k)%n+n)%n < 2 }
	}
	for {
		t := est.PhaseNS + k*p
		if !probed(k) {
			switch {
			case first >= t-d: // its change is seen
			case lastStart < t-d-3*step/2:
				return max(t-d-3*step/2, now)
			case probed(k+1) && lastStart < t+d:
				return max(t+p/2, now)
			}
			k++
			continue
		}
		s := start(k)
		if first >= s {
			k++
			continue
		}
		if now < s {
			return s
		}
		end := t + d + step
		if g := s + (now-s)/step*step; lastStart < g && now <= end {
			return now // no read began at the step g
		}
		next := s + ((now-s)/step+1)*step
		// Probes spaced wider than probeStep (probing) leave up to a
		// step between the band's last probe and its end, where a late
		// refresh is then seen only after the band and withheld
		// (unplaceable, afterBand: 7 replies in 120 s of a 0.5 s driver
		// up to 4 ms late, 2 ms apart). A probe half a probeStep before
		// the band's end, where the grid leaves none near it, closes
		// that.
		if half := int64(probeStep) / 2; step > int64(probeStep) && now < t+d-half &&
			next > t+d && lastStart < t+d-2*half {
			return t + d - half
		}
		if next <= end {
			return next
		}
		if probed(k + 1) {
			return max(start(k+1), now+step)
		}
		k++
	}
}

func countersDecreased(old, c *wire.Counters) bool {
	return c.RxBytes < old.RxBytes || c.TxBytes < old.TxBytes ||
		c.RxPackets < old.RxPackets || c.TxPackets < old.TxPackets ||
		c.RxErrors < old.RxErrors || c.TxErrors < old.TxErrors ||
		c.RxDropped < old.RxDropped || c.TxDropped < old.TxDropped
}
