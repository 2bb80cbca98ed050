package publisher

import (
	"context"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/refresh"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
)

// MinWatch is the shortest IFSTAT_WATCH: finer reads cost a router CPU
// more than the precision they buy (a driver's refresh instant is pinned
// tighter by fitting many windows on the bridge; see
// internal/refresh).
const MinWatch = 10 * time.Millisecond

// watchState is what the watch remembers about one interface.
type watchState struct {
	c wire.Counters // the values seen last (watch fields zero)
	// first is the first read that saw c; 0 until a change was seen.
	first int64
	// prev is the last read that saw the values before c; 0 if unknown.
	prev int64
	// last is the latest read that saw c, lastStart when it began.
	last, lastStart int64
	gen             uint64
	auto            *autoState // nil unless the watch is adaptive
}

// watcher records, per interface, when its counters changed, from every
// read the agent makes (watch ticks and requests). It is not safe for
// concurrent use; the agent guards it with the reader.
type watcher struct {
	ifaces map[string]*watchState
	gen    uint64
	// auto is IFSTAT_WATCH=auto: replies carry the window of the refresh
	// the values are current as of (see autoState.annotate).
	auto bool
	// start is the first read observed.
	start int64
	// bursts counts the adaptive watch's burst reads.
	bursts uint64
	// withheld counts the replies, per interface, that claimed no window
	// although the fit held, by why (see autoState.unplaceable).
	withheld [numWithheld]uint64
	// gone are the news of interfaces whose state a read dropped.
	gone []watchNews
	// probeAt is when the next watch read is planned, if that is a probe
	// step away (0 if not); lateProbes counts the probes that began more
	// than lateBy after it: on a busy router, what widens the windows.
	probeAt    int64
	lateProbes uint64
	// planned is when the next watch read is planned (0: none yet);
	// woken is set when a request's read saw traffic on an interface
	// that plan left idle (see wakes).
	planned int64
	woken   bool
	// thin > 1 is the agent over its CPU budget (see cpuBudget): each
	// clock's probes thin or widen (see probing).
	thin int64
	// shared lets the fits of interfaces on one refresh clock (a switch
	// chip's ports), fed the same windows by the same reads, be
	// computed once.
	shared refresh.Shared
}

// lateBy is how late a probe must begin to count in lateProbes: more
// than a probe step (a late Go timer never made it, the kernel's timer
// wakes 0.1 ms late), so the reader waited for a CPU or for the counters.
const lateBy = time.Millisecond

// noteProbe counts the watch read that began at start as late if a
// probe was planned for it and it began more than lateBy after that, and
// plans the next read at next (a probe if under preciseBelow after mono).
func (w *watcher) noteProbe(start, mono, next int64) {
	if w.probeAt > 0 && start-w.probeAt > int64(lateBy) {
		w.lateProbes++
	}
	w.probeAt, w.planned, w.woken = 0, next, false
	if next > 0 && next-mono < int64(preciseBelow) {
		w.probeAt = next
	}
}

// wakes reports whether a change that a read ending at mono saw on st
// should wake the adaptive watch: st was idle when the watch planned its
// next read, and that read is more than a burst step away. An idle watch
// sleeps up to idleSleep, and a request that saw new traffic left it
// asleep: the refreshes until it woke were claimed in the fit's band, a
// few ms wide, unprobed (84 refreshes in 32 bursts at 0.2 s requests of
// a 0.5 s driver in TestAutoWatchIrregular, against the 32 that open
// the bursts and that no read can await).
func (w *watcher) wakes(st *watchState, mono int64) bool {
	if w.planned-mono <= int64(MinWatch) || st.auto.class == classLive {
		return false
	}
	if st.first == 0 {
		return true
	}
	idle := int64(activeFor)
	if st.auto.class == classPeriodic {
		if est := st.auto.fit.Estimate(); est.PeriodNS > 0 {
			// nextRead probes a periodic interface only this long
			// after its latest change.
			idle = min(idle, 2*est.PeriodNS+int64(maxMargin))
		}
	}
	return mono-st.first > idle
}

// takeWake reports whether a read since the watch's last plan saw traffic
// that the plan did not cover (see wakes), and clears it.
func (w *watcher) takeWake() bool {
	woken := w.woken
	w.woken = false
	return woken
}

// watchNews is a change of an interface's class, for the log.
type watchNews struct {
	iface, what string
	est         refresh.Estimate
}

// news drains the adaptive watch's class changes.
func (w *watcher) news() []watchNews {
	out := w.gone
	w.gone = nil
	for name, st := range w.ifaces {
		if st.auto == nil {
			continue
		}
		for _, what := range st.auto.news {
			out = append(out, watchNews{name, what, st.auto.fit.Estimate()})
		}
		st.auto.news = st.auto.news[:0]
	}
	return out
}

func newWatcher(auto bool) *watcher { return &watcher{ifaces: map[string]*watchState{}, auto: auto} }

// observe notes a read that began at start and ended at mono (start 0:
// at mono). An interface seen for the first time (or again after
// vanishing) has no known change yet. A change is placed after the start
// of the last read that missed it: the kernel made that read's values
// somewhere during it.
func (w *watcher) observe(start, mono int64, ifaces map[string]wire.Counters) {
	if start <= 0 || start > mono {
		start = mono
	}
	w.gen++
	if w.start == 0 {
		w.start = mono
	}
	for name, c := range ifaces {
		c.ChangedNS, c.UnchangedNS, c.RefreshNS = 0, 0, 0
		st := w.ifaces[name]
		switch {
		case st == nil:
			st = &watchState{c: c, last: mono, lastStart: start, gen: w.gen}
			if w.auto {
				st.auto = newAutoState(&w.shared)
			}
			w.ifaces[name] = st
			continue
		case mono <= st.last:
			// A read stamped no later than the last one cannot order the
			// change; keep what we have.
		case sameCounters(&c, &st.c):
			if w.auto {
				st.auto.observe(st, start, mono, c, true)
			}
			st.last, st.lastStart = mono, start
		default:
			if w.auto {
				if w.wakes(st, mono) {
					w.woken = true
				}
				st.auto.observe(st, start, mono, c, false)
			}
			st.prev, st.first, st.last, st.lastStart, st.c = st.lastStart, mono, mono, start, c
		}
		st.gen = w.gen
	}
	if len(w.ifaces) != len(ifaces) {
		for name, st := range w.ifaces {
			if st.gen != w.gen {
				// A read without the interface (unplugged, ppp0 down):
				// what the watch learnt of its driver is dropped, and
				// the interface starts over should it come back.
				// Said, so that a fit found again is not a mystery.
				if st.auto != nil && st.auto.class != classUnknown && len(w.gone) < maxNews {
					w.gone = append(w.gone, watchNews{name, "interface missing from a read: its refresh clock forgotten", st.auto.fit.Estimate()})
				}
				delete(w.ifaces, name)
			}
		}
	}
}

// anyLive reports whether the adaptive watch takes some interface's
// counters as live (current at every read).
func (w *watcher) anyLive() bool {
	for _, st := range w.ifaces {
		if st.auto != nil && st.auto.class == classLive {
			return true
		}
	}
	return false
}

// sameCounters reports whether a and b hold the same counters and
// attributes (the watch fields are zero in both). Field by field: Go
// compares a struct this size with runtime.memequal, which on 32-bit MIPS
// goes byte by byte (104 bytes, eleven interfaces, every probe: 8 % of
// the watch's instructions under qemu-mipsel).
func sameCounters(a, b *wire.Counters) bool {
	return a.RxBytes == b.RxBytes && a.TxBytes == b.TxBytes &&
		a.RxPackets == b.RxPackets && a.TxPackets == b.TxPackets &&
		a.RxErrors == b.RxErrors && a.TxErrors == b.TxErrors &&
		a.RxDropped == b.RxDropped && a.TxDropped == b.TxDropped &&
		a.Ifindex == b.Ifindex && a.SpeedMbps == b.SpeedMbps &&
		a.ChangedNS == b.ChangedNS && a.UnchangedNS == b.UnchangedNS && a.RefreshNS == b.RefreshNS
}

// annotate sets ChangedNS and UnchangedNS of each interface in ifaces
// (the read at mono just observed) from what the watch knows.
func (w *watcher) annotate(mono int64, ifaces map[string]wire.Counters) {
	for name, c := range ifaces {
		st := w.ifaces[name]
		if st != nil && st.auto != nil {
			w.withheld[st.auto.annotate(mono, &c)]++
			ifaces[name] = c
			continue
		}
		if st == nil || st.first == 0 {
			continue
		}
		c.ChangedNS, c.UnchangedNS = st.first, st.prev
		ifaces[name] = c
	}
}

// watchLoop reads the counters between requests until ctx is done: every
// cfg.Watch.Every, or when the adaptive watch asks to.
func (a *Agent) watchLoop(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	precise := newPreciseSleeper()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.watchWake:
			// A request saw an idle interface carry traffic: plan
			// from a read now, not after the idle sleep.
			t.Stop()
		}
		d := a.watchOnce()
		// Probes a millisecond apart need the kernel's timer
		// (preciseSleeper).
		for a.cfg.Watch.Auto && d < preciseBelow && ctx.Err() == nil {
			precise.sleep(d)
			d = a.watchOnce()
		}
		t.Reset(d)
	}
}

// watchOnce is one read of the watch, which only updates what it knows;
// it returns how long to sleep before the next.
func (a *Agent) watchOnce() time.Duration {
	a.readMu.Lock()
	defer a.readMu.Unlock()
	snap, err := a.reader.Read()
	if err != nil {
		a.watch.probeAt = 0
		a.readErrors.Add(1)
		a.lim.Warn(a.log.WithError(err), "read", "reading counters for the watch")
		if !a.cfg.Watch.Auto {
			return a.cfg.Watch.Every
		}
		return idleSleep
	}
	read := time.Now()
	a.watchReads.Add(1)
	a.watch.observe(snap.StartNS, snap.MonoNS, snap.Ifaces)
	if !a.cfg.Watch.Auto {
		return a.cfg.Watch.Every - time.Since(read)
	}
	if a.budget.due(snap.MonoNS) {
		a.noteCPU(snap.MonoNS)
	}
	next := a.watch.nextRead(snap.MonoNS)
	start := snap.StartNS
	if start <= 0 {
		start = snap.MonoNS
	}
	a.watch.noteProbe(start, snap.MonoNS, next)
	a.logNews()
	// mono_ns advances with Go's monotonic clock (netdev.kernelClock),
	// so a mono instant is this far from now.
	return time.Duration(next-snap.MonoNS) - time.Since(read)
}

// noteCPU ends a span of the CPU budget at mono and thins or thickens the
// adaptive watch's probes.
func (a *Agent) noteCPU(mono int64) {
	cpu, err := a.cpuTime()
	if err != nil {
		// Not asked again at every read: a clock that failed once
		// (getrusage never does on Linux) is not worth a call per probe.
		a.budget.share = 0
		a.log.WithError(err).Warn("reading the agent's CPU time: the watch's CPU budget is not kept")
		return
	}
	if !a.budget.note(mono, cpu, a.watch.bursts) {
		return
	}
	a.watch.thin = a.budget.thin
	e := a.log.WithFields(logrus.Fields{"cpu_pct": fmt.Sprintf("%.2f", 100*a.budget.used), "budget_pct": a.cfg.WatchCPU.String(), "probe_every": a.budget.thin,
		"probe_spaced": a.watch.spaced()})
	over := a.budget.used > a.budget.share
	if ok, _ := a.lim.Allow(fmt.Sprintf("watch cpu %v %v", over, a.budget.held)); !ok {
		return
	}
	switch {
	case a.budget.held:
		e.Warn("adaptive watch over its CPU budget, but probing fewer refreshes saved less than a tenth of its CPU: probing as before, and again fewer only after 10 minutes (the agent's other work is what costs)")
	case over:
		e.Info("adaptive watch over its CPU budget: probing fewer refreshes (or, where they come late by a few ms, 2 ms apart), the others placed by the fit")
	default:
		e.Info("adaptive watch well under its CPU budget: probing more refreshes")
	}
}

// logNews logs what the adaptive watch learnt or lost; a flapping driver
// is limited like any other warning.
func (a *Agent) logNews() {
	for _, n := range a.watch.news() {
		e := a.log.WithField("iface", n.iface)
		if n.est.PeriodNS > 0 {
			e = e.WithFields(logrus.Fields{"period_ms": float64(n.est.PeriodNS) / 1e6, "precision_us": n.est.PrecisionNS / 1e3})
		}
		if ok, _ := a.lim.Allow("watch " + n.iface); ok {
			e.Info(n.what)
		}
	}
}
